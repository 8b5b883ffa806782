#include "backend.h"

const char *page_access_name(enum page_access access)
{
    switch (access) {
    case PAGE_ACCESS_RWX: return "rwx";
    case PAGE_ACCESS_RX: return "rx";
    case PAGE_ACCESS_RW: return "rw";
    case PAGE_ACCESS_R: return "r";
    }
    return "?";
}

void backend_close(struct backend *be)
{
    if (be)
        be->ops->destroy(be->self);
}

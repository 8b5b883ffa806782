/*
 * ether-frame-dump: prints an agent frame stream as one JSON object per line, for people and for
 * checking a stream by hand:   ether-agent --replay s.bin --syscalls | ether-frame-dump -
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_reader.h"

int main(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: ether-frame-dump FILE|-\n");
        return 2;
    }
    size_t len;
    uint8_t *buf = read_all(argv[1], &len);
    if (!buf) {
        fprintf(stderr, "ether-frame-dump: cannot read %s\n", argv[1]);
        return 1;
    }
    struct frame_list frames;
    char err[256];
    if (frames_decode(buf, len, &frames, err, sizeof err) != 0) {
        fprintf(stderr, "ether-frame-dump: %s\n", err);
        free(buf);
        return 1;
    }
    for (size_t i = 0; i < frames.count; i++) {
        frame_print_json(stdout, frames.frames[i].map);
        fputc('\n', stdout);
    }
    frames_free(&frames);
    free(buf);
    return 0;
}

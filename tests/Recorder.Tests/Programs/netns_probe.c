/* What a sample sees of the network: its network namespace (the inode of /proc/self/ns/net), every
 * interface with whether it is up, and whether a TCP connection over 127.0.0.1 works. Then, if given
 * a ready file and a fifo, it writes its namespace inode into the ready file and blocks reading the
 * fifo: a test holds two recordings alive at once this way, to compare their namespaces. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *loopback_tcp(void)
{
    int server = socket(AF_INET, SOCK_STREAM, 0), client = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (server < 0 || client < 0) return "socket failed";
    if (bind(server, (struct sockaddr *)&a, sizeof a) || listen(server, 1)) return "bind/listen failed";
    if (getsockname(server, (struct sockaddr *)&a, &len)) return "getsockname failed";
    if (connect(client, (struct sockaddr *)&a, sizeof a)) return "connect failed";
    int peer = accept(server, NULL, NULL);
    char c = 0;
    if (peer < 0 || write(client, "x", 1) != 1 || read(peer, &c, 1) != 1 || c != 'x') return "no data";
    return "works";
}

int main(int argc, char **argv)
{
    struct stat ns;
    if (stat("/proc/self/ns/net", &ns)) { perror("stat /proc/self/ns/net"); return 1; }
    printf("namespace %lu\n", (unsigned long)ns.st_ino);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct if_nameindex *ifs = if_nameindex();
    for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
        struct ifreq r;
        memset(&r, 0, sizeof r);
        strncpy(r.ifr_name, i->if_name, IFNAMSIZ - 1);
        int up = ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP);
        printf("interface %s %s\n", i->if_name, up ? "up" : "down");
    }
    printf("loopback tcp %s\n", loopback_tcp());
    fflush(stdout);

    if (argc == 3) {
        FILE *ready = fopen(argv[1], "w");
        fprintf(ready, "%lu\n", (unsigned long)ns.st_ino);
        fclose(ready);
        char c;
        int fifo = open(argv[2], O_RDONLY);
        if (fifo < 0 || read(fifo, &c, 1) != 1) return 2;
    }
    return 0;
}

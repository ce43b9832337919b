/*
 * ringread.c: the floor of a live capture (bench/live.sh). A bare
 * TPACKET_V3 ring on a device, of the geometry sampled gives it
 * (sampled/live.c: blocks of up to 1 MiB, at least 8, handed over when
 * full or 20 ms after their first frame), read as sampled reads it (poll,
 * then every block the kernel handed over), that only counts the frames
 * and their bytes: no filter, no decoding, no flows. What a capturing
 * process cannot spend less than, beside which sampled and softflowd are
 * put. Nothing but libc and the kernel headers.
 *
 *   ringread DEVICE [RING_KB]    (default 4096, sampled's buffer_kb)
 *
 * Runs until SIGTERM or SIGINT, then prints "frames bytes drops" (drops:
 * the kernel's, its ring full) on one line.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct tpacket_req3 r;
	struct tpacket_stats_v3 st;
	struct sigaction sa;
	socklen_t len = sizeof(st);
	size_t ring, block = 1u << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t frames = 0, bytes = 0, drops = 0;
	unsigned cur = 0;
	uint8_t *map;
	int fd, v = TPACKET_V3;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ringread DEVICE [RING_KB]\n");
		return 2;
	}
	ring = (size_t)(argc > 2 ? atoi(argv[2]) : 4096) * 1024;
	while (block > page && block * 8 > ring)
		block >>= 1;
	memset(&r, 0, sizeof(r));
	r.tp_block_size = (unsigned)block;
	r.tp_block_nr = (unsigned)(ring / block > 1 ? ring / block : 2);
	r.tp_frame_size = 2048;
	r.tp_frame_nr = r.tp_block_nr * (r.tp_block_size / 2048);
	r.tp_retire_blk_tov = 20;
	if ((sll.sll_ifindex = (int)if_nametoindex(argv[1])) == 0) {
		fprintf(stderr, "ringread: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) == -1 ||
	    setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) == -1 ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &r, sizeof(r)) == -1) {
		fprintf(stderr, "ringread: socket: %s\n", strerror(errno));
		return 1;
	}
	map = mmap(NULL, (size_t)r.tp_block_size * r.tp_block_nr,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	sll.sll_protocol = htons(ETH_P_ALL);
	if (map == MAP_FAILED ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		fprintf(stderr, "ringread: ring: %s\n", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!quit) {
		struct tpacket_block_desc *b = (struct tpacket_block_desc *)
		    (map + (size_t)cur * r.tp_block_size);
		const struct tpacket3_hdr *h;
		uint32_t i, np;

		if (!(__atomic_load_n(&b->hdr.bh1.block_status,
		    __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			struct pollfd p = { fd, POLLIN, 0 };

			poll(&p, 1, 100);
			continue;
		}
		np = b->hdr.bh1.num_pkts;
		h = (const struct tpacket3_hdr *)((uint8_t *)b +
		    b->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < np; i++) {
			frames++;
			bytes += h->tp_len;
			h = (const struct tpacket3_hdr *)((const uint8_t *)h +
			    h->tp_next_offset);
		}
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL,
		    __ATOMIC_RELEASE);
		cur = (cur + 1) % r.tp_block_nr;
	}
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		drops = st.tp_drops;
	printf("%llu %llu %llu\n", (unsigned long long)frames,
	    (unsigned long long)bytes, (unsigned long long)drops);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
//
// hostlane-fpga-model: the RTL of fpga-ctl/rtl (hlf_top) compiled with
// Verilator, behind a unix socket that carries what a PCIe link would
// (fpga-ctl/src/model_proto.h): BAR0 reads and writes, the host memory
// the driver maps for DMA (memfds, mapped here: the request pipeline's
// DMA port reads and writes them), interrupt eventfds. One
// driver at a time; when it goes, the design is reset (a function-level
// reset). The clock runs freely: every access is one or more cycles, and
// idle time ticks too, so the device advances while the driver waits.
//
//   hostlane-fpga-model SOCKET_PATH
// Stops on SIGTERM/SIGINT (the socket is removed); prints the cycles run.
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "Vhlf_top.h"
#include "verilated.h"

extern "C" {
#include "fpgactl_abi.h"
#include "model_proto.h"
}

static Vhlf_top *top;
static uint64_t cycles;
static volatile sig_atomic_t stop;

struct dmamap {
	uint64_t iova, size;
	void *va;
};
static dmamap maps[64];
static int irq_fd[1024];

// host memory at an IOVA the driver mapped (a whole 64-byte line), or NULL
static uint8_t *dma_at(uint64_t iova)
{
	for (auto &m : maps)
		if (m.va && iova >= m.iova && iova - m.iova <= m.size - 64)
			return (uint8_t *)m.va + (iova - m.iova);
	return nullptr;
}

static bool rd_pending;
static uint64_t rd_iova;

// A clock cycle with the request pipeline's DMA port served from the
// mapped memory: writes land at once (a release fence first: an index
// line is seen after the entries it covers), a read answers the next
// cycle (all ones and the error bit where nothing is mapped).
static void tick()
{
	top->clk = 0;
	top->dma_req_ready = 1;
	top->dma_rsp_valid = rd_pending;
	if (rd_pending) {
		uint8_t *p = dma_at(rd_iova);

		top->dma_rsp_err = !p;
		for (unsigned i = 0; i < 16; i++) {
			uint32_t w = 0xffffffffu;

			if (p)
				memcpy(&w, p + 4 * i, 4);
			top->dma_rsp_data[i] = w;
		}
		rd_pending = false;
	}
	top->eval();
	if (top->dma_req_valid && top->dma_req_we) {
		uint8_t *p = dma_at(top->dma_req_addr);

		__atomic_thread_fence(__ATOMIC_RELEASE);
		if (p)
			for (unsigned i = 0; i < 16; i++)
				memcpy(p + 4 * i, &top->dma_req_data[i], 4);
	} else if (top->dma_req_valid) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		rd_pending = true;
		rd_iova = top->dma_req_addr;
	}
	top->clk = 1;
	top->eval();
	cycles++;
}

static void reset()
{
	top->rst = 1;
	rd_pending = false;
	top->dma_rsp_valid = 0;
	top->bar_wvalid = 0;
	top->bar_rvalid = 0;
	tick();
	top->rst = 0;
	tick();
}

static void drop_state()
{
	for (auto &m : maps)
		if (m.va) {
			munmap(m.va, m.size);
			m = dmamap{};
		}
	for (auto &fd : irq_fd)
		if (fd >= 0) {
			close(fd);
			fd = -1;
		}
}

// One message (and its fd, if any); false when the driver is gone.
static bool serve(int c)
{
	fctl_model_msg m;
	fctl_model_rsp r = {};
	union {
		cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	iovec iov = { &m, sizeof(m) };
	msghdr mh = {};
	int fd = -1;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(c, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(m))
		return false;
	for (cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(h), sizeof(int));
	switch (m.op) {
	case FCTL_M_RD:
		top->bar_rvalid = 1;
		top->bar_raddr = m.off & 0x3ffc;
		tick();
		top->bar_rvalid = 0;
		r.val = m.off < FPGACTL_BAR_SIZE ? top->bar_rdata : 0xffffffffu;
		break;
	case FCTL_M_WR:
		if (m.off < FPGACTL_BAR_SIZE) {
			top->bar_wvalid = 1;
			top->bar_waddr = m.off & 0x3ffc;
			top->bar_wdata = m.val;
			tick();
			top->bar_wvalid = 0;
		}
		if (fd >= 0)
			close(fd);
		return true;  // posted: no answer
	case FCTL_M_MAP: {
		dmamap *slot = nullptr;

		r.status = -ENOSPC;
		for (auto &x : maps)
			if (!x.va && !slot)
				slot = &x;
		if (fd < 0 || !m.size) {
			r.status = -EINVAL;
		} else if (slot) {
			void *va = mmap(nullptr, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			r.status = va == MAP_FAILED ? -errno : 0;
			if (va != MAP_FAILED)
				*slot = dmamap{ m.iova, m.size, va };
		}
		break;
	}
	case FCTL_M_UNMAP:
		r.status = -ENOENT;
		for (auto &x : maps)
			if (x.va && x.iova == m.iova) {
				munmap(x.va, x.size);
				x = dmamap{};
				r.status = 0;
			}
		break;
	case FCTL_M_IRQ:
		if (m.off >= 1024 || (m.val && fd < 0)) {
			r.status = -EINVAL;
			break;
		}
		if (irq_fd[m.off] >= 0)
			close(irq_fd[m.off]);
		irq_fd[m.off] = m.val ? fd : -1;
		fd = -1;
		break;
	default:
		r.status = -EOPNOTSUPP;
	}
	if (fd >= 0)
		close(fd);
	return write(c, &r, sizeof(r)) == (ssize_t)sizeof(r);
}

static void on_signal(int) { stop = 1; }

int main(int argc, char **argv)
{
	sockaddr_un a = {};
	int ls;

	if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: hostlane-fpga-model SOCKET_PATH\n");
		return 2;
	}
	Verilated::commandArgs(1, argv);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	for (auto &fd : irq_fd)
		fd = -1;
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, argv[1]);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(argv[1]);
	umask(077);  // the socket reaches the device: its owner only
	if (ls < 0 || bind(ls, (sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
		perror("hostlane-fpga-model: socket");
		return 1;
	}
	top = new Vhlf_top;
	reset();
	while (!stop) {
		pollfd p = { ls, POLLIN, 0 };
		int c;

		// no driver: the clock ticks on (the tables clear after reset)
		if (poll(&p, 1, 10) <= 0) {
			for (int i = 0; i < 256; i++)
				tick();
			continue;
		}
		c = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		for (unsigned idle = 0; !stop;) {
			pollfd q = { c, POLLIN, 0 };
			int rc = poll(&q, 1, idle > 16 ? 10 : 0);

			if (rc > 0) {
				idle = 0;
				if (!serve(c))
					break;
			} else if (rc == 0) {
				idle++;
				for (int i = 0; i < 256; i++)
					tick();
			} else if (errno != EINTR) {
				break;
			}
		}
		close(c);
		drop_state();
		reset();
	}
	drop_state();
	unlink(argv[1]);
	fprintf(stderr, "hostlane-fpga-model: %llu cycles\n", (unsigned long long)cycles);
	top->final();
	delete top;
	return 0;
}

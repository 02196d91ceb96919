/*
 * sockcase: the cases about options: socket options and fcntl flags with
 * the sendmsg/recvmsg family, SO_RCVTIMEO and SO_SNDTIMEO (the driver is
 * sockcase.c).
 */
#include "sockcase.h"

/* Socket options, fcntl flags and the sendmsg/recvmsg/sendto/recvfrom
 * family on a connected socket. */
void s_options(void)
{
	int l = srv_listen(), c = srv_accept(l), v = 0;
	socklen_t vl = sizeof(v);
	char a[4], b[8];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	long r;

	rec_rc("getsockopt SO_ACCEPTCONN (conn)", getsockopt(c, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	rec("value = %d", v);
	vl = sizeof(v);
	rec_rc("getsockopt SO_ACCEPTCONN (listener)", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	rec("value = %d", v);
	r = rec_rc("recvmsg 12 into 4+8", recvmsg(c, &m, MSG_WAITALL));
	if (r == 12)
		rec("iov = \"%.4s\" \"%.8s\"", a, b);
	r = rec_rc("recvfrom", recvfrom(c, b, 3, MSG_WAITALL, (struct sockaddr *)&from, &fl));
	rec("recvfrom addrlen = %u", fl);
	rec_send("send", c, "ok", 0);
	rec_recv("recv eof", c, 3, 0);
	close(c);
	close(l);
}

void c_options(void)
{
	int fd = tcp_socket(), v = 1, got = -1;
	socklen_t gl = sizeof(got);
	struct iovec iov[3] = { { "head", 4 }, { "body", 4 }, { "tail", 4 } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };

	rec_rc("setsockopt SO_REUSEADDR", setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	rec_rc("getsockopt SO_REUSEADDR", getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &got, &gl));
	rec("value != 0 = %d", got != 0);
	rec_rc("setsockopt SO_KEEPALIVE", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	gl = sizeof(got);
	rec_rc("getsockopt SO_KEEPALIVE", getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &got, &gl));
	rec("value != 0 = %d", got != 0);
	v = 65536;
	rec_rc("setsockopt SO_SNDBUF", setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	gl = sizeof(got);
	rec_rc("getsockopt SO_SNDBUF", getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &gl));
	rec("value >= requested = %d", got >= 65536);
	gl = sizeof(got);
	rec_rc("getsockopt SO_TYPE", getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &gl));
	rec("value = %s", got == SOCK_STREAM ? "SOCK_STREAM" : "other");
	rec_rc("connect", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	v = 1;
	rec_rc("setsockopt TCP_NODELAY", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	gl = sizeof(got);
	rec_rc("getsockopt TCP_NODELAY", getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &gl));
	rec("value != 0 = %d", got != 0);
	gl = sizeof(got);
	rec_rc("getsockopt SO_ERROR", getsockopt(fd, SOL_SOCKET, SO_ERROR, &got, &gl));
	rec("value = %d", got);
	rec_rc("fcntl F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	rec("F_GETFD cloexec = %d", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	rec_rc("sendmsg 4+4+4", sendmsg(fd, &m, MSG_NOSIGNAL));
	rec_rc("sendto (connected, no addr)", sendto(fd, "xyz", 3, MSG_NOSIGNAL, NULL, 0));
	rec_recv("recv", fd, 2, MSG_WAITALL);
	rec_rc("close", close(fd));
	rec_rc("close again", close(fd));
}

/* SO_RCVTIMEO / SO_SNDTIMEO: values as the kernel rounds them, bad values,
 * inheritance by accept(), and blocking recv/read/accept/send giving up with
 * EAGAIN. Elapsed times are printed only as "waited at least the timeout".
 * Two connections: A carries the data, B says "go". */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void s_timeouts(void)
{
	int l = srv_listen_nr(), a, b, t;
	char id = 0, id2 = 0;
	static char buf[65536];
	uint64_t got = 0;
	int64_t t0;
	long r;

	set_timeo("listener SO_SNDTIMEO 0.3", l, SO_SNDTIMEO, 0, 300000);
	srv_ready();
	a = srv_accept(l);
	xrecv(a, &id, 1);
	b = srv_accept(l);
	xrecv(b, &id2, 1);
	if (id == 'B' && id2 == 'A') {
		t = a;
		a = b;
		b = t;
	}
	rec_timeo("accepted SO_SNDTIMEO (inherited)", a, SO_SNDTIMEO);
	rec_timeo("accepted SO_RCVTIMEO", a, SO_RCVTIMEO);
	set_timeo("listener SO_RCVTIMEO 0.2", l, SO_RCVTIMEO, 0, 200000);
	t0 = now_us();
	rec_rc("accept with SO_RCVTIMEO, nobody connecting", accept(l, NULL, NULL));
	rec("waited = %d", now_us() - t0 >= 200000);
	go_wait(b);
	xsend(a, "abc", 3);
	go_wait(b);  /* the client filled A and gave up */
	while ((r = recv(a, buf, sizeof(buf), 0)) > 0)
		got += (uint64_t)r;
	rec_rc("drain A ends", r);
	xsend(b, &got, sizeof(got));
	rec_recv("recv B eof", b, 4, 0);
	close(a);
	close(b);
	close(l);
}

void c_timeouts(void)
{
	int a = cli_connect(), b, one = 1;
	static char buf[65536];
	struct pollfd p;
	uint64_t total = 0, got = 0;
	int64_t t0;
	long r;

	xsend(a, "A", 1);
	b = cli_connect();
	xsend(b, "B", 1);
	rec_timeo("default SO_RCVTIMEO", a, SO_RCVTIMEO);
	set_timeo("SO_RCVTIMEO 0.123457", a, SO_RCVTIMEO, 0, 123457);
	rec_timeo("SO_RCVTIMEO as the kernel rounds it", a, SO_RCVTIMEO);
	set_timeo("SO_RCVTIMEO usec 1000000", a, SO_RCVTIMEO, 0, 1000000);
	rec_rc("SO_RCVTIMEO short optlen", setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &one, sizeof(one)));
	{
		struct timeval tv;
		socklen_t tl = 4;
		uint32_t head;

		memset(&tv, 0xff, sizeof(tv));
		rec_rc("getsockopt SO_RCVTIMEO short optlen",
		       getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl));
		memcpy(&head, &tv, sizeof(head));
		rec("optlen = %u, first 4 bytes = %u (the rest untouched = %d)", tl, head,
		    ((unsigned char *)&tv)[4] == 0xff);
	}
	rec_timeo("SO_RCVTIMEO unchanged", a, SO_RCVTIMEO);
	set_timeo("SO_RCVTIMEO 0.2", a, SO_RCVTIMEO, 0, 200000);
	t0 = now_us();
	rec_recv("recv idle", a, 10, 0);
	rec("waited = %d", now_us() - t0 >= 200000);
	t0 = now_us();
	rec_rc("read idle", read(a, buf, 10));
	rec("waited = %d", now_us() - t0 >= 200000);
	go_send(b);
	p = (struct pollfd){ .fd = a, .events = POLLIN };
	rec_rc("poll", poll(&p, 1, -1));
	rec_recv("recv 10 MSG_WAITALL, 3 queued", a, 10, MSG_WAITALL);
	set_timeo("SO_RCVTIMEO tv_sec -1", a, SO_RCVTIMEO, -1, 0);
	rec_timeo("SO_RCVTIMEO after tv_sec -1", a, SO_RCVTIMEO);
	rec_recv("recv idle (expires at once)", a, 10, 0);
	set_timeo("SO_SNDTIMEO 0.2", a, SO_SNDTIMEO, 0, 200000);
	memset(buf, 't', sizeof(buf));
	do {
		t0 = now_us();
		r = send(a, buf, sizeof(buf), MSG_NOSIGNAL);
		if (r > 0)
			total += (uint64_t)r;
	} while (r > 0);
	rec("send to a peer that does not read ends -1 EAGAIN = %d", r < 0 && errno == EAGAIN);
	rec("last send waited = %d, bytes taken before = %d", now_us() - t0 >= 200000, total > 0);
	go_send(b);
	rec_rc("shutdown A", shutdown(a, SHUT_WR));
	xrecv(b, &got, sizeof(got));
	rec("server got every byte taken = %d", got == total);
	close(a);
	close(b);
}

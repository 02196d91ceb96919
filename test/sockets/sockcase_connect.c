/*
 * sockcase: the cases about setting connections up and tearing listeners
 * down: blocking and nonblocking connect, many concurrent connections,
 * refused connects, spare kernel sockets, listening again, closing a
 * listener with queued connections (the driver is sockcase.c).
 */
#include "sockcase.h"

/* Blocking connect/accept, addresses, one echo. */
void s_connect_block(void)
{
	int l = srv_listen(), c;
	struct sockaddr_in a, b;
	socklen_t al = sizeof(a), bl = sizeof(b);

	c = rec_fd("accept", accept(l, (struct sockaddr *)&a, &al));
	rec("accept addrlen = %u family_inet = %d", al, a.sin_family == AF_INET);
	rec_rc("getsockname", getsockname(c, (struct sockaddr *)&b, &bl));
	rec("local is listen addr = %d", b.sin_addr.s_addr == srv_addr.sin_addr.s_addr &&
	    b.sin_port == srv_addr.sin_port);
	rec_recv("recv", c, 5, MSG_WAITALL);
	rec_send("send", c, "world", 0);
	rec_recv("recv after peer close", c, 10, 0);
	rec_rc("close", close(c));
	rec_rc("close listener", close(l));
}

void c_connect_block(void)
{
	int fd = tcp_socket();
	struct sockaddr_in p;
	socklen_t pl = sizeof(p);

	rec_rc("getpeername before connect", getpeername(fd, (struct sockaddr *)&p, &pl));
	rec_rc("connect", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	pl = sizeof(p);
	rec_rc("getpeername", getpeername(fd, (struct sockaddr *)&p, &pl));
	rec("peer is server = %d", p.sin_addr.s_addr == srv_addr.sin_addr.s_addr &&
	    p.sin_port == srv_addr.sin_port);
	rec_rc("connect again", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", fd, "hello", 0);
	rec_recv("recv", fd, 5, MSG_WAITALL);
	rec_rc("close", close(fd));
}

/* Nonblocking connect and accept: EINPROGRESS/EAGAIN, poll, SO_ERROR. */
void s_connect_nonblock(void)
{
	int l = srv_listen_nr(), c;
	struct pollfd p;

	set_nonblock(l, 1);
	rec_fd("accept before any client", accept(l, NULL, NULL));
	srv_ready();
	p = (struct pollfd){ .fd = l, .events = POLLIN };
	rec_rc("poll listener", poll(&p, 1, -1));
	rec_mask("poll listener revents", (unsigned)p.revents);
	c = rec_fd("accept4 nonblock", accept4(l, NULL, NULL, SOCK_NONBLOCK));
	rec("accepted O_NONBLOCK = %d", !!(fcntl(c, F_GETFL) & O_NONBLOCK));
	rec_recv("recv before data", c, 10, 0);
	go_send(c);
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	rec_rc("poll conn", poll(&p, 1, -1));
	rec_mask("poll conn revents", (unsigned)p.revents);
	rec_recv("recv", c, 4, MSG_WAITALL);
	close(c);
	close(l);
}

void c_connect_nonblock(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1;
	socklen_t el = sizeof(err);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	char ch;

	rec("socket O_NONBLOCK = %d", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	rec_rc("connect", connect(fd, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_rc("poll out", poll(&p, 1, -1));
	rec_mask("poll out revents", (unsigned)p.revents);
	rec_rc("SO_ERROR", getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %d", err);
	rec_rc("connect after completion", connect(fd, (struct sockaddr *)&srv_addr,
						  sizeof(srv_addr)));
	set_nonblock(fd, 0);
	rec_rc("recv go", recv(fd, &ch, 1, 0));
	rec_send("send", fd, "data", 0);
	rec_recv("recv eof", fd, 4, 0);
	close(fd);
}

/* Many concurrent connections, served by one epoll loop. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * MANY_CONNS) {
		rl.rlim_cur = rl.rlim_max < 4 * MANY_CONNS ? rl.rlim_max : 4 * MANY_CONNS;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void s_many(void)
{
	int l, ep = epoll_create1(0), conns = 0, served = 0;
	struct epoll_event ev = { .events = EPOLLIN }, out[64];

	raise_nofile();
	l = srv_listen();
	ev.data.fd = l;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	while (served < MANY_CONNS) {
		int n = epoll_wait(ep, out, 64, -1), i;

		for (i = 0; i < n; i++) {
			int fd = out[i].data.fd;
			uint32_t v;

			if (fd == l) {
				int c = accept(l, NULL, NULL);

				if (c < 0)
					die("accept");
				conns++;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			if (recv(fd, &v, 4, MSG_WAITALL) != 4)
				die("recv index");
			v++;
			xsend(fd, &v, 4);
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			served++;
		}
	}
	rec("accepted = %d served = %d", conns, served);
	close(ep);
	close(l);
}

void c_many(void)
{
	static int fds[MANY_CONNS];
	int i, connected = 0, right = 0;

	raise_nofile();
	for (i = 0; i < MANY_CONNS; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&srv_addr, sizeof(srv_addr)) == 0)
			connected++;
	}
	rec("connected = %d", connected);
	for (i = 0; i < MANY_CONNS; i++) {
		uint32_t v = (uint32_t)i;

		xsend(fds[i], &v, 4);
	}
	for (i = 0; i < MANY_CONNS; i++) {
		uint32_t v = 0;

		if (recv(fds[i], &v, 4, MSG_WAITALL) == 4 && v == (uint32_t)i + 1)
			right++;
		close(fds[i]);
	}
	rec("answers right = %d", right);
}

/* Connect to a closed port: blocking and nonblocking, and after the
 * listener closed. */
void s_refused(void)
{
	int l = srv_listen(), c = srv_accept(l);

	rec_rc("close listener", close(l));
	go_send(c);
	rec_recv("recv eof", c, 4, 0);
	close(c);
}

void c_refused(void)
{
	struct sockaddr_in other = srv_addr;
	int fd = cli_connect(), s, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;

	go_wait(fd);
	s = tcp_socket();
	rec_rc("connect after listener closed", connect(s, (struct sockaddr *)&srv_addr,
						       sizeof(srv_addr)));
	close(s);
	other.sin_port = htons((uint16_t)(ntohs(srv_addr.sin_port) + 1));
	s = tcp_socket();
	rec_rc("connect to port never listened", connect(s, (struct sockaddr *)&other,
							sizeof(other)));
	rec_rc("send on refused socket", send(s, "x", 1, MSG_NOSIGNAL));
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	rec_rc("nonblocking connect", connect(s, (struct sockaddr *)&other, sizeof(other)));
	p = (struct pollfd){ .fd = s, .events = POLLOUT };
	rec_rc("poll", poll(&p, 1, -1));
	rec_mask("poll revents", (unsigned)p.revents);
	rec_rc("SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %s", err ? ename(err) : "0");
	close(s);
	close(fd);
}

/* New sockets after a connection (under LD_PRELOAD they are dups of the
 * spare kernel socket the layer kept from it): a real, new TCP socket to
 * every look; O_NONBLOCK and FIONBIO set before a connect that goes to the
 * kernel take effect; options, bind, and connections after them work. */
void s_spare(void)
{
	int l = srv_listen(), ctl = srv_accept(l);

	for (int i = 0; i < 3; i++) {
		int c = srv_accept(l);
		char what[32];

		snprintf(what, sizeof(what), "recv on conn %d", i);
		rec_recv(what, c, 1, 0);
		close(c);
	}
	go_wait(ctl);
	close(ctl);
	close(l);
}

static void refused_nb(const char *what, int s, const struct sockaddr_in *to)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	rec_rc(what, connect(s, (const struct sockaddr *)to, sizeof(*to)));
	rec_rc("poll", poll(&p, 1, -1));
	rec_rc("SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	rec("SO_ERROR value = %s", err ? ename(err) : "0");
}

void c_spare(void)
{
	struct sockaddr_in other = srv_addr, me;
	int ctl = cli_connect(), s, v = 0, one = 1;
	socklen_t ml = sizeof(me), vl = sizeof(v);
	struct stat st;

	other.sin_port = htons((uint16_t)(ntohs(srv_addr.sin_port) + 1));
	s = tcp_socket();
	rec("fstat socket = %d", fstat(s, &st) == 0 && S_ISSOCK(st.st_mode));
	rec_rc("SO_TYPE", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	rec("SO_TYPE stream = %d", v == SOCK_STREAM);
	rec_rc("getsockname", getsockname(s, (struct sockaddr *)&me, &ml));
	rec("unbound: inet %d port %u", me.sin_family == AF_INET, ntohs(me.sin_port));
	rec("F_GETFL nonblock = %d", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
	rec_rc("F_SETFL O_NONBLOCK", fcntl(s, F_SETFL, O_RDWR | O_NONBLOCK));
	rec("F_GETFL nonblock = %d", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
	refused_nb("nonblocking connect to a closed port", s, &other);
	close(s);
	s = tcp_socket();
	rec_rc("FIONBIO", ioctl(s, FIONBIO, &one));
	refused_nb("FIONBIO connect to a closed port", s, &other);
	close(s);
	s = tcp_socket();
	rec_rc("connect", connect(s, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", s, "a", 0);
	close(s);
	s = tcp_socket();
	rec_rc("TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	vl = sizeof(v);
	rec_rc("get TCP_NODELAY", getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &vl));
	rec("TCP_NODELAY = %d", v);
	rec_rc("connect", connect(s, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", s, "b", 0);
	close(s);
	s = tcp_socket();
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	rec_rc("bind port 0", bind(s, (struct sockaddr *)&me, sizeof(me)));
	ml = sizeof(me);
	rec_rc("getsockname", getsockname(s, (struct sockaddr *)&me, &ml));
	rec("bound port non-zero = %d", me.sin_port != 0);
	rec_rc("connect", connect(s, (struct sockaddr *)&srv_addr, sizeof(srv_addr)));
	rec_send("send", s, "c", 0);
	close(s);
	go_send(ctl);
	close(ctl);
}

/* A listener closed and opened again on the same port, between
 * connections the layer sets up without the monitor (all but the first):
 * refused while nothing listens, served again after. */
void s_relisten(void)
{
	int l = srv_listen(), c, ctl;

	for (int i = 0; i < 3; i++) {
		c = srv_accept(l);
		rec_recv("recv", c, 1, MSG_WAITALL);
		rec_send("send", c, "y", 0);
		rec_recv("recv eof", c, 1, 0);
		close(c);
	}
	ctl = srv_accept(l);
	rec_rc("close listener", close(l));
	go_send(ctl);
	go_wait(ctl);
	l = srv_listen_nr();
	go_send(ctl);
	c = srv_accept(l);
	rec_recv("recv after relisten", c, 1, MSG_WAITALL);
	rec_send("send", c, "z", 0);
	rec_recv("recv eof", c, 1, 0);
	close(c);
	close(l);
	close(ctl);
}

void c_relisten(void)
{
	int fd, ctl, s;

	for (int i = 0; i < 3; i++) {
		fd = cli_connect();
		rec_send("send", fd, "x", 0);
		rec_recv("recv", fd, 1, MSG_WAITALL);
		close(fd);
	}
	ctl = cli_connect();
	go_wait(ctl);
	s = tcp_socket();
	rec_rc("connect while nothing listens", connect(s, (struct sockaddr *)&srv_addr,
						       sizeof(srv_addr)));
	close(s);
	go_send(ctl);
	go_wait(ctl);
	fd = cli_connect();
	rec_send("send", fd, "x", 0);
	rec_recv("recv after relisten", fd, 1, MSG_WAITALL);
	close(fd);
	close(ctl);
}

/* A listener closed with a connection it never accepted: the connector,
 * which wrote to it, reads a reset. */
void s_close_queued(void)
{
	int l = srv_listen(), ctl = srv_accept(l);

	go_wait(ctl);  /* the second connection is made and written to */
	rec_rc("close listener", close(l));
	go_send(ctl);
	go_wait(ctl);
	close(ctl);
}

void c_close_queued(void)
{
	int ctl = cli_connect(), fd = cli_connect();

	rec_send("send to the queued connection", fd, "x", 0);
	go_send(ctl);
	go_wait(ctl);
	rec_recv("recv after the listener closed", fd, 1, 0);
	rec_recv("recv again", fd, 1, 0);
	close(fd);
	go_send(ctl);
	close(ctl);
}

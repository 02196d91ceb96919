/*
 * sockcase: the cases about readiness: epoll level- and edge-triggered, two
 * epoll sets, deleting and adding again, poll and select (the driver is
 * sockcase.c).
 */
#include "sockcase.h"

/* epoll level-triggered with EPOLLRDHUP, listener in the set too. */
void s_epoll_lt(void)
{
	int l = srv_listen(), ep = epoll_create1(EPOLL_CLOEXEC), c;
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int n;

	rec_fd("epoll_create1", ep);
	ev.data.u64 = 1;
	rec_rc("epoll_ctl ADD listener", epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	n = (int)rec_rc("epoll_wait listener", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	c = srv_accept(l);
	rec_rc("epoll_ctl DEL listener", epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL));
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 2 };
	rec_rc("epoll_ctl ADD conn", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	rec_rc("epoll_ctl ADD conn twice", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	rec_rc("epoll_wait nothing yet", epoll_wait(ep, out, 4, 0));
	go_send(c);
	n = (int)rec_rc("epoll_wait data", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	rec_recv("recv 4 of 10", c, 4, 0);
	n = (int)rec_rc("epoll_wait level: still readable", epoll_wait(ep, out, 4, 0));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv rest", c, 10, 0);
	rec_rc("epoll_wait drained", epoll_wait(ep, out, 4, 0));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	rec_rc("epoll_ctl MOD +OUT", epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev));
	n = (int)rec_rc("epoll_wait writable", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	ev.events = EPOLLIN | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev);
	go_send(c);
	n = (int)rec_rc("epoll_wait peer SHUT_WR", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv eof", c, 10, 0);
	n = (int)rec_rc("epoll_wait level: EOF stays", epoll_wait(ep, out, 4, 0));
	if (n > 0)
		rec_mask("events", out[0].events);
	close(c);
	close(ep);
	close(l);
}

void c_epoll_lt(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send 10", fd, "0123456789", 0);
	go_wait(fd);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	rec_recv("recv eof", fd, 10, 0);
	close(fd);
}

/* epoll DEL and ADD again around traffic, as event loops (redis's ae) do
 * around each write: a deleted fd reports nothing, MOD/DEL of it fail, a
 * re-added one reports what is ready with its new data. */
void s_epoll_readd(void)
{
	int l = srv_listen(), ep = epoll_create1(EPOLL_CLOEXEC), c = srv_accept(l), n;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 3 }, out[4];

	rec_rc("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	go_send(c);
	n = (int)rec_rc("epoll_wait data", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	rec_rc("epoll_ctl DEL", epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
	rec_rc("epoll_ctl DEL again", epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
	rec_rc("epoll_ctl MOD of a deleted fd", epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev));
	rec_rc("epoll_wait after DEL, data unread", epoll_wait(ep, out, 4, 100));
	ev.data.u64 = 4;
	rec_rc("epoll_ctl ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	rec_rc("epoll_ctl ADD again twice", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	n = (int)rec_rc("epoll_wait re-added", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	rec_recv("recv", c, 10, 0);
	rec_rc("epoll_ctl DEL", epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL));
	go_send(c);
	rec_rc("epoll_wait after DEL, peer closing", epoll_wait(ep, out, 4, 100));
	rec_recv("recv eof", c, 10, 0);
	ev.data.u64 = 5;
	rec_rc("epoll_ctl ADD after EOF", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	n = (int)rec_rc("epoll_wait EOF", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec("event data = %llu", (unsigned long long)out[0].data.u64), rec_mask("events", out[0].events);
	close(c);
	close(ep);
	close(l);
}

void c_epoll_readd(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send 3", fd, "abc", 0);
	go_wait(fd);
	close(fd);
}

/* epoll edge-triggered: one event per arrival, not per readable state. */
void s_epoll_et(void)
{
	int l = srv_listen(), ep = epoll_create(8), c = srv_accept(l), n;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = 7 }, out[4];
	char buf[64];
	long r, total = 0;

	rec_fd("epoll_create", ep);
	set_nonblock(c, 1);
	rec_rc("epoll_ctl ADD ET", epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
	go_send(c);
	n = (int)rec_rc("epoll_wait first arrival", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv 4 of 10", c, 4, 0);
	rec_rc("epoll_wait no new edge", epoll_wait(ep, out, 4, 0));
	go_send(c);
	n = (int)rec_rc("epoll_wait second arrival", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	while ((r = recv(c, buf, 3, 0)) > 0)
		total += r;
	rec("drained total = %ld then errno = %s", total, ename(errno));
	go_send(c);
	n = (int)rec_rc("epoll_wait peer SHUT_WR", epoll_wait(ep, out, 4, -1));
	if (n > 0)
		rec_mask("events", out[0].events);
	rec_recv("recv eof", c, 10, 0);
	close(c);
	close(ep);
	close(l);
}

void c_epoll_et(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send 10", fd, "0123456789", 0);
	go_wait(fd);
	rec_send("send 5", fd, "abcde", 0);
	go_wait(fd);
	rec_rc("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	close(fd);
}

/* One fd in two epoll sets: both fire, each with its own cookie; closing
 * one set leaves the other working. */
void s_epoll_two(void)
{
	int l = srv_listen(), c = srv_accept(l), e1 = epoll_create1(0), e2 = epoll_create1(0), n;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 11 }, out[2];

	rec_rc("ADD to set 1", epoll_ctl(e1, EPOLL_CTL_ADD, c, &ev));
	ev.data.u64 = 22;
	ev.events = EPOLLIN | EPOLLET;
	rec_rc("ADD to set 2 (ET)", epoll_ctl(e2, EPOLL_CTL_ADD, c, &ev));
	go_send(c);
	n = (int)rec_rc("set 1 wait", epoll_wait(e1, out, 2, -1));
	if (n > 0)
		rec("set 1 cookie = %llu", (unsigned long long)out[0].data.u64);
	n = (int)rec_rc("set 2 wait", epoll_wait(e2, out, 2, -1));
	if (n > 0)
		rec("set 2 cookie = %llu", (unsigned long long)out[0].data.u64);
	rec_recv("recv", c, 5, MSG_WAITALL);
	rec_rc("close set 1", close(e1));
	go_send(c);
	n = (int)rec_rc("set 2 wait after set 1 closed", epoll_wait(e2, out, 2, -1));
	if (n > 0)
		rec("set 2 cookie = %llu", (unsigned long long)out[0].data.u64);
	rec_recv("recv", c, 5, MSG_WAITALL);
	close(e2);
	close(c);
	close(l);
}

void c_epoll_two(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send", fd, "one..", 0);
	go_wait(fd);
	rec_send("send", fd, "two..", 0);
	close(fd);
}

/* poll, ppoll, select, pselect. */
void s_poll_select(void)
{
	int l = srv_listen(), c = srv_accept(l);
	struct pollfd p = { .fd = c, .events = POLLIN | POLLOUT | POLLRDHUP };
	struct timespec zero = { 0, 0 };
	struct timeval tv0 = { 0, 0 };
	fd_set r, w;
	sigset_t none;

	sigemptyset(&none);
	rec_rc("poll", poll(&p, 1, 0));
	rec_mask("poll revents (writable only)", (unsigned)p.revents);
	p.events = POLLIN;
	rec_rc("poll IN nothing", poll(&p, 1, 0));
	FD_ZERO(&r);
	FD_SET(c, &r);
	rec_rc("select read nothing", select(c + 1, &r, NULL, NULL, &tv0));
	go_send(c);
	rec_rc("ppoll IN", ppoll(&p, 1, NULL, &none));
	rec_mask("ppoll revents", (unsigned)p.revents);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(c, &r);
	FD_SET(c, &w);
	rec_rc("select read+write", select(c + 1, &r, &w, NULL, NULL));
	rec("select readable = %d writable = %d", FD_ISSET(c, &r), FD_ISSET(c, &w));
	rec_recv("recv", c, 3, MSG_WAITALL);
	FD_ZERO(&r);
	FD_SET(c, &r);
	rec_rc("pselect read drained", pselect(c + 1, &r, NULL, NULL, &zero, &none));
	go_send(c);
	FD_ZERO(&r);
	FD_SET(c, &r);
	rec_rc("select read after peer close", select(c + 1, &r, NULL, NULL, NULL));
	p.events = POLLIN | POLLRDHUP;
	rec_rc("poll after peer close", poll(&p, 1, -1));
	rec_mask("poll revents", (unsigned)p.revents);
	rec_recv("recv eof", c, 3, 0);
	close(c);
	close(l);
}

void c_poll_select(void)
{
	int fd = cli_connect();

	go_wait(fd);
	rec_send("send", fd, "abc", 0);
	go_wait(fd);
	rec_rc("close", close(fd));
}

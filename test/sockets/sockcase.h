/* sockcase.h: what the parts of the socket-semantics suite share: the
 * transcript helpers and set-up steps of the driver (sockcase.c) and the
 * server and client parts of every case (sockcase_*.c). Every part prints
 * only what a program can observe, through rec() and friends; see
 * sockcase.c for the rules.
 */
#ifndef SOCKCASE_H
#define SOCKCASE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A hang (a lost wake-up in the layer under test) must fail the case, not
 * stall the suite: both parts die after this many seconds. */
#define CASE_ALARM_S 60
#define MANY_CONNS 1000

/* 'S' in the server part, 'C' in the client part: the transcript's prefix. */
extern char side;
/* SERVER_IP:PORT from the command line. */
extern struct sockaddr_in srv_addr;

/* ---- the transcript ---------------------------------------------------- */

/* One transcript line: "S what..." or "C what...". */
__attribute__((format(printf, 1, 2))) void rec(const char *fmt, ...);
/* The errno's name (EAGAIN), "E?" if unknown. */
const char *ename(int e);
/* "what = N" or "what = -1 ENAME". Returns r. */
long rec_rc(const char *what, long r);
/* fds are numbered differently per mode: "what = fd" or the error. */
int rec_fd(const char *what, int fd);
/* "FATAL what: ENAME", exit 2. */
void die(const char *what);
/* An epoll or poll event mask by name ("IN|OUT"). */
void rec_mask(const char *what, unsigned m);
/* recv() up to @n bytes, printing the count and the bytes. */
long rec_recv(const char *what, int fd, size_t n, int flags);
/* send() of string @s (MSG_NOSIGNAL), printing the result. */
long rec_send(const char *what, int fd, const char *s, int flags);
/* SO_RCVTIMEO / SO_SNDTIMEO (@name) as getsockopt gives it. */
void rec_timeo(const char *what, int fd, int name);
/* Sets SO_RCVTIMEO / SO_SNDTIMEO (@name), printing the result. */
int set_timeo(const char *what, int fd, int name, long sec, long usec);

/* ---- steps the transcript need not show (die on failure) --------------- */

void xsend(int fd, const void *p, size_t n);
void xrecv(int fd, void *p, size_t n);
/* The parts synchronise through their connection only: one byte "go". */
void go_send(int fd);
void go_wait(int fd);
void set_nonblock(int fd, int on);
int tcp_socket(void);
/* Listens on SERVER_IP:PORT; srv_listen() also prints "ready" (the driver
 * starts the client on it), srv_listen_nr() leaves that to srv_ready(). */
int srv_listen_nr(void);
void srv_ready(void);
int srv_listen(void);
int srv_accept(int lfd);
int cli_connect(void);

/* ---- the cases: server part s_X, client part c_X ----------------------- */

#define SOCKCASE(x) void s_##x(void); void c_##x(void)
/* sockcase_connect.c */
SOCKCASE(connect_block);
SOCKCASE(connect_nonblock);
SOCKCASE(many);
SOCKCASE(refused);
SOCKCASE(spare);
SOCKCASE(relisten);
SOCKCASE(close_queued);
/* sockcase_io.c */
SOCKCASE(partial_io);
SOCKCASE(peek);
SOCKCASE(waitall);
SOCKCASE(half_close);
SOCKCASE(close_unread);
SOCKCASE(killed);
/* sockcase_poll.c */
SOCKCASE(epoll_lt);
SOCKCASE(epoll_readd);
SOCKCASE(epoll_et);
SOCKCASE(epoll_two);
SOCKCASE(poll_select);
/* sockcase_proc.c */
SOCKCASE(dup2);
SOCKCASE(fork);
SOCKCASE(threads);
SOCKCASE(exec);
/* The exec case's server part after it exec'd itself ("sockcase exec-child
 * CONN LISTENER"). */
void s_exec_child(int c, int l);
/* sockcase_opt.c */
SOCKCASE(options);
SOCKCASE(timeouts);
/* sockcase_fork.c */
SOCKCASE(fork_listener);
SOCKCASE(fork_conn);
SOCKCASE(fork_wakeup);
SOCKCASE(spawn);
SOCKCASE(accept_race);
/* sockcase_sig.c */
SOCKCASE(signal_intr);
SOCKCASE(signal_restart);
/* sockcase_sigwait.c */
SOCKCASE(signal_wait);
SOCKCASE(signal_wait_restart);
/* sockcase_close.c */
SOCKCASE(peer_closed_nosig);
SOCKCASE(peer_closed_sigpipe);
SOCKCASE(peer_closed_nb);
SOCKCASE(linger_abort);
SOCKCASE(linger_abort_nb);
SOCKCASE(abort_queued);
SOCKCASE(close_queued_idle);
/* sockcase_oob.c */
SOCKCASE(oob_plain);
SOCKCASE(oob_inline);
SOCKCASE(oob_nb);
#undef SOCKCASE

#endif

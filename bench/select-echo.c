// The select() echo server in C, with nothing between the loop and the kernel, in one of two shapes:
//
//   tuned (the default)  the shape of the TypeScript select() loop: inputs, outputs,
//                        select(inputs, outputs, inputs), recv(65536) into a per-client queue, one
//                        gather write of everything queued when writable, and a client in outputs
//                        only while it has bytes queued. The ceiling of our loop's design.
//   --python-shaped      docs/python/select_echo_server.py line for line: recv, append to the
//                        client's queue, add it to outputs; each time select() says it is writable,
//                        send() the queue's first message (what the kernel does not take stays in
//                        front); a client leaves outputs only when select() says it is writable and
//                        its queue is found empty. The ceiling of the Python's design.
//
// The two differ only in the write step, so the gap between them is what the tuning is worth.
// (Python walks readable, then writable, then exceptional; this loop takes each descriptor's
// three in turn, which makes the same system calls.)
//
//   select-echo [--host 127.0.0.1] [--port 10000] [--python-shaped] [--quiet]
//
// It says "starting up on HOST port P" on stderr once listening; SIGINT or SIGTERM closes every
// socket and exits 0.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RECV_SIZE 65536
#define MAX_IOV 64

// One client's outbound queue: copies of what was received, written from the front.
struct chunk {
  char* data;
  size_t len;
};
struct client {
  bool open;
  bool reading;  // in inputs: the peer has not half-closed yet
  struct chunk* queue;
  size_t head, count, cap;  // queue[head..count) hold bytes; head_off of queue[head] are written
  size_t head_off;
};

// Set by the signal handler. SIGINT and SIGTERM stay blocked except inside pselect(), so one
// cannot slip in between the check and the wait.
static volatile sig_atomic_t stop_signal;

static void on_signal(int signo) {
  stop_signal = signo;
}

static int put(struct client* c, const char* data, size_t len) {
  if (c->count == c->cap) {
    if (c->head > 0) {
      memmove(c->queue, c->queue + c->head, (c->count - c->head) * sizeof *c->queue);
      c->count -= c->head;
      c->head = 0;
    } else {
      size_t cap = c->cap ? c->cap * 2 : 4;
      struct chunk* q = realloc(c->queue, cap * sizeof *q);
      if (!q) return -1;
      c->queue = q;
      c->cap = cap;
    }
  }
  char* copy = malloc(len);
  if (!copy) return -1;
  memcpy(copy, data, len);
  c->queue[c->count++] = (struct chunk){copy, len};
  return 0;
}

static bool empty(const struct client* c) {
  return c->head == c->count;
}

static void drop_queue(struct client* c) {
  for (size_t i = c->head; i < c->count; i++) free(c->queue[i].data);
  free(c->queue);
  c->queue = NULL;
  c->head = c->count = c->cap = c->head_off = 0;
}

// One gather write of up to `max_iov` queued messages (1: Python's send(next_msg)); returns -1
// (errno set) on a failed write, 0 otherwise.
static int flush(int fd, struct client* c, int max_iov) {
  struct iovec iov[MAX_IOV];
  int n = 0;
  for (size_t i = c->head; i < c->count && n < max_iov; i++, n++) {
    size_t off = i == c->head ? c->head_off : 0;
    iov[n].iov_base = c->queue[i].data + off;
    iov[n].iov_len = c->queue[i].len - off;
  }
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
  ssize_t w;
  do w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (w < 0 && errno == EINTR);
  if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  size_t left = (size_t)w;
  while (left > 0) {
    struct chunk* ch = &c->queue[c->head];
    size_t rest = ch->len - c->head_off;
    if (left < rest) {
      c->head_off += left;
      break;
    }
    left -= rest;
    free(ch->data);
    c->head++;
    c->head_off = 0;
  }
  if (empty(c)) c->head = c->count = 0;
  return 0;
}

static void say(bool quiet, const char* fmt, int fd) {
  if (!quiet) fprintf(stderr, fmt, fd);
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 10000;
  bool quiet = false;
  bool python_shaped = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quiet")) quiet = true;
    else if (!strcmp(argv[i], "--python-shaped")) python_shaped = true;
    else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
    else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: select-echo [--host 127.0.0.1] [--port 10000] [--python-shaped] [--quiet]\n");
      return 2;
    }
  }

#ifdef M_TRIM_THRESHOLD
  // In a process this small, freeing a 64 KiB chunk often leaves the heap's top past glibc's trim
  // threshold, so every echo of a stream paid a brk() and page faults (350 brk calls a second
  // at 10 streams). Keeping freed memory, as a larger process does by its own fragmentation,
  // leaves the loop's costs the loop's own.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
#endif
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigset_t stops, waiting;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
      sigprocmask(SIG_BLOCK, &stops, &waiting) < 0) {
    perror("select-echo: sigaction");
    return 1;
  }
  sigdelset(&waiting, SIGINT);
  sigdelset(&waiting, SIGTERM);

  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server < 0) {
    perror("select-echo: socket");
    return 1;
  }
  int one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "select-echo: --host must be an IPv4 address, got %s\n", host);
    return 1;
  }
  if (setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      fcntl(server, F_SETFL, O_NONBLOCK) < 0 || bind(server, (struct sockaddr*)&addr, sizeof addr) < 0 ||
      listen(server, 128) < 0) {
    fprintf(stderr, "select-echo: cannot listen on %s port %d: %s\n", host, port, strerror(errno));
    close(server);
    return 1;
  }
  socklen_t alen = sizeof addr;
  if (getsockname(server, (struct sockaddr*)&addr, &alen) < 0) {
    perror("select-echo: getsockname");
    return 1;
  }
  fprintf(stderr, "starting up on %s port %d\n", host, ntohs(addr.sin_port));

  // inputs and outputs are fd_sets kept between turns; select() overwrites what it is given,
  // so each turn hands it copies. pselect() is select() with the signal mask swapped in
  // for the wait, nothing more.
  static struct client clients[FD_SETSIZE];
  static char buf[RECV_SIZE];
  fd_set inputs, outputs;
  FD_ZERO(&inputs);
  FD_ZERO(&outputs);
  FD_SET(server, &inputs);
  int maxfd = server;
  int status = 0;

  while (!stop_signal) {
    fd_set readable = inputs, writable = outputs, exceptional = inputs;
    int n = pselect(maxfd + 1, &readable, &writable, &exceptional, NULL, &waiting);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("select-echo: pselect");
      status = 1;
      break;
    }
    int top = maxfd;
    for (int fd = 0; fd <= top; fd++) {
      struct client* c = &clients[fd];
      if (FD_ISSET(fd, &readable)) {
        if (fd == server) {
          int conn = accept4(server, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (conn < 0) continue;  // reset before accept, or another process won the wake-up
          if (conn >= FD_SETSIZE) {
            close(conn);
            continue;
          }
          say(quiet, "new connection on fd %d\n", conn);
          clients[conn] = (struct client){.open = true, .reading = true};
          FD_SET(conn, &inputs);
          if (conn > maxfd) maxfd = conn;
          continue;
        }
        ssize_t r;
        do r = recv(fd, buf, RECV_SIZE, 0);
        while (r < 0 && errno == EINTR);
        if (r > 0) {
          if (put(c, buf, (size_t)r) < 0) {
            fprintf(stderr, "select-echo: out of memory\n");
            status = 1;
            goto out;
          }
          FD_SET(fd, &outputs);
        } else if (r == 0) {
          // Half-closed: what is queued is still delivered, then the socket closes.
          FD_CLR(fd, &inputs);
          c->reading = false;
          if (empty(c)) goto drop;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
          goto drop;
        }
      }
      if (FD_ISSET(fd, &writable) && c->open) {
        if (python_shaped) {
          // py: next_msg = message_queues[s].get_nowait() ... except queue.Empty: outputs.remove(s)
          if (empty(c)) {
            FD_CLR(fd, &outputs);
            if (!c->reading) goto drop;
          } else if (flush(fd, c, 1) < 0) {
            goto drop;
          }
        } else {
          if (flush(fd, c, MAX_IOV) < 0) goto drop;
          if (empty(c)) {
            FD_CLR(fd, &outputs);
            if (!c->reading) goto drop;
          }
        }
      }
      if (FD_ISSET(fd, &exceptional) && fd != server && c->open) goto drop;
      continue;
    drop:
      say(quiet, "closing fd %d\n", fd);
      FD_CLR(fd, &inputs);
      FD_CLR(fd, &outputs);
      drop_queue(c);
      c->open = false;
      close(fd);
    }
  }
out:
  if (stop_signal) say(quiet, "signal %d: closing every socket\n", stop_signal);
  for (int fd = 0; fd <= maxfd; fd++)
    if (clients[fd].open) {
      drop_queue(&clients[fd]);
      close(fd);
    }
  close(server);
  return status;
}

// The load generator: N TCP connections to an echo server, driven by epoll on one or more
// threads, every echoed byte checked against what was sent.
//
//   loadgen --port P [--host 127.0.0.1] [--mode pingpong|stream|idle] [--conns N] [--size BYTES]
//           [--threads T] [--warmup SEC] [--duration SEC] [--window BYTES] [--setup-timeout SEC]
//
// pingpong  each connection sends `size` bytes, waits for exactly those bytes back, checks them,
//           and sends again: round trips/s, p50/p99 latency.
// stream    each connection writes `size`-byte chunks and reads the echo, with at most `window`
//           bytes in flight: echoed MB/s.
// idle      each connection makes one round trip and then waits; "ready" goes to stdout, and when
//           stdin closes every connection makes one more round trip (so none was dropped) and
//           the run ends. The harness measures the server's memory in between.
//
// In pingpong and idle mode a connection whose first round trip is done waits for the others
// before it goes on: a server busy echoing for the first connections would otherwise be slow to
// accept the last ones (Node's net accepts about one per turn of its loop when every connection
// is busy), and setup would measure that instead of the echo.
//
// One JSON object goes to stdout at the end; any error (a wrong byte, a byte too many, a closed
// or reset connection, a refused connect) goes to stderr and the exit status is 1.
//
// Each connection's bytes are one long stream: byte `o` of connection `c` is
// pattern[(start_c + o) % PATTERN_PERIOD], so any split or coalescing by the server is fine and
// checking a read is one memcmp against the pattern.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "histogram.h"

#define PATTERN_PERIOD 65521u       // prime, so that no message size lines up with it
#define MAX_SIZE (1u << 20)         // largest message or chunk
#define READ_BUF (256u * 1024u)     // one recv() per readable connection reads at most this
#define CONNECTS_IN_FLIGHT 100      // below the servers' listen backlog of 128, so no SYN is dropped

enum mode { PINGPONG, STREAM, IDLE };
enum phase { SETUP, WARMUP, MEASURE, RECHECK, STOP };

struct config {
  struct sockaddr_in addr;
  enum mode mode;
  int conns;
  size_t size;
  int threads;
  double warmup, duration, setup_timeout;
  size_t window;
  const unsigned char* pattern;  // PATTERN_PERIOD + MAX_SIZE + READ_BUF bytes, read-only once built
};

// What every thread sees. `phase` moves forward only, set by the main thread; the counters are
// how the main thread learns that setup is done (or failed).
struct shared {
  const struct config* cfg;
  _Atomic int phase;
  _Atomic int ready;     // connections whose first round trip has come back
  _Atomic int rechecked; // idle mode: connections whose second round trip has come back
  _Atomic int connects;  // connects started and not yet answered, all threads together
  _Atomic int failed;
};

struct conn {
  int fd;
  int id;
  uint32_t start;        // where this connection's stream begins in the pattern
  uint64_t sent, recvd;  // stream offsets: bytes written, bytes read back and checked
  uint64_t goal;         // bytes to have written (pingpong, idle: sent message's end)
  uint64_t sent_at;      // pingpong: when the message in flight went out, ns
  int echoes;            // round trips completed
  bool connected, watching_out, ready, parked, done;
};

struct worker {
  pthread_t thread;
  struct shared* sh;
  struct conn* conns;
  int n;
  int epfd;
  unsigned char* buf;
  int next_connect;  // conns[next_connect..] have not started connecting yet
  bool running;      // every connection is up: round trips follow one another
  // Results, counted only while the phase is MEASURE (verified counts everything).
  uint64_t roundtrips, bytes, verified;
  struct histogram hist;
  char error[256];
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// Records the first error of a worker and tells everyone to stop. Returns -1 for `return fail(...)`.
static int fail(struct worker* w, const char* fmt, ...) {
  if (w->error[0] == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
  }
  atomic_store(&w->sh->failed, 1);
  return -1;
}

static int phase_of(struct worker* w) {
  return atomic_load_explicit(&w->sh->phase, memory_order_relaxed);
}

static const unsigned char* expected(const struct config* cfg, const struct conn* c, uint64_t off) {
  return cfg->pattern + (c->start + off) % PATTERN_PERIOD;
}

static int watch(struct worker* w, struct conn* c, bool out) {
  if (c->watching_out == out) return 0;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) return fail(w, "epoll_ctl: %s", strerror(errno));
  c->watching_out = out;
  return 0;
}

// Writes towards c->goal; whatever the kernel does not take now is written when EPOLLOUT says so.
static int write_some(struct worker* w, struct conn* c) {
  const struct config* cfg = w->sh->cfg;
  while (c->sent < c->goal) {
    uint64_t left = c->goal - c->sent;
    size_t len = left < cfg->size ? (size_t)left : cfg->size;
    ssize_t n = send(c->fd, expected(cfg, c, c->sent), len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return watch(w, c, true);
      if (phase_of(w) == STOP) return 0;
      return fail(w, "connection %d: send: %s", c->id, strerror(errno));
    }
    c->sent += (uint64_t)n;
  }
  return watch(w, c, false);
}

static int send_message(struct worker* w, struct conn* c) {
  c->goal = c->sent + w->sh->cfg->size;
  c->sent_at = now_ns();
  return write_some(w, c);
}

// Stream mode keeps `window` bytes in flight, written in chunks of `size`.
static int stream_more(struct worker* w, struct conn* c) {
  c->goal = c->recvd + w->sh->cfg->window;
  return write_some(w, c);
}

static int start_connect(struct worker* w, struct conn* c) {
  const struct config* cfg = w->sh->cfg;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return fail(w, "socket: %s", strerror(errno));
  int one = 1;
  if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
    return fail(w, "setsockopt(TCP_NODELAY): %s", strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) return fail(w, "epoll_ctl: %s", strerror(errno));
  c->watching_out = true;
  atomic_fetch_add(&w->sh->connects, 1);
  if (connect(c->fd, (const struct sockaddr*)&cfg->addr, sizeof cfg->addr) < 0 && errno != EINPROGRESS)
    return fail(w, "connection %d: connect: %s", c->id, strerror(errno));
  return 0;
}

// Starts connects while fewer than CONNECTS_IN_FLIGHT are unanswered: a burst larger than the
// server's backlog would have SYNs dropped and retried a second later.
static int connect_more(struct worker* w) {
  while (w->next_connect < w->n && atomic_load(&w->sh->connects) < CONNECTS_IN_FLIGHT) {
    if (start_connect(w, &w->conns[w->next_connect++]) < 0) return -1;
  }
  return 0;
}

// The first round trip has come back: the server has accepted and served this connection.
static int became_ready(struct worker* w, struct conn* c) {
  c->ready = true;
  atomic_fetch_sub(&w->sh->connects, 1);
  atomic_fetch_add(&w->sh->ready, 1);
  return connect_more(w);
}

// One message of pingpong or idle mode has come back whole.
static int echoed(struct worker* w, struct conn* c) {
  int phase = phase_of(w);
  c->echoes++;
  if (phase == MEASURE && w->sh->cfg->mode == PINGPONG) {
    w->roundtrips++;
    histogram_add(&w->hist, now_ns() - c->sent_at);
  }
  if (!c->ready && became_ready(w, c) < 0) return -1;
  if (w->sh->cfg->mode == IDLE && c->echoes > 1) {
    c->done = true;
    atomic_fetch_add(&w->sh->rechecked, 1);
    return 0;
  }
  if (!w->running) {
    c->parked = true;  // until every connection is up (pingpong) or stdin closes (idle)
    return 0;
  }
  return send_message(w, c);
}

static int on_connected(struct worker* w, struct conn* c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) return fail(w, "connection %d: connect: %s", c->id, strerror(err));
  c->connected = true;
  if (w->sh->cfg->mode == STREAM) {
    // The first window's echo is this connection's first round trip.
    c->goal = 0;
    return stream_more(w, c);
  }
  return send_message(w, c);
}

// Reads what is there, checks every byte against what this connection sent, and moves on.
static int on_readable(struct worker* w, struct conn* c) {
  const struct config* cfg = w->sh->cfg;
  ssize_t n;
  do n = recv(c->fd, w->buf, READ_BUF, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (phase_of(w) == STOP) return 0;
    return fail(w, "connection %d: recv: %s (after %llu of %llu bytes echoed)", c->id, strerror(errno),
                (unsigned long long)c->recvd, (unsigned long long)c->sent);
  }
  if (n == 0) {
    if (phase_of(w) == STOP) return 0;
    return fail(w, "connection %d: the server closed it after echoing %llu of %llu bytes", c->id,
                (unsigned long long)c->recvd, (unsigned long long)c->sent);
  }
  if ((uint64_t)n > c->sent - c->recvd)
    return fail(w, "connection %d: %zd bytes came back, %llu were in flight", c->id, n,
                (unsigned long long)(c->sent - c->recvd));
  const unsigned char* want = expected(cfg, c, c->recvd);
  if (memcmp(w->buf, want, (size_t)n) != 0) {
    size_t i = 0;
    while (w->buf[i] == want[i]) i++;
    return fail(w, "connection %d: byte %llu of the echo is 0x%02x, expected 0x%02x", c->id,
                (unsigned long long)(c->recvd + i), w->buf[i], want[i]);
  }
  c->recvd += (uint64_t)n;
  w->verified += (uint64_t)n;
  if (cfg->mode == STREAM) {
    if (phase_of(w) == MEASURE) w->bytes += (uint64_t)n;
    if (!c->ready && c->recvd >= cfg->window && became_ready(w, c) < 0) return -1;
    return stream_more(w, c);
  }
  if (c->recvd == c->goal) return echoed(w, c);
  return 0;
}

static int on_event(struct worker* w, struct conn* c, uint32_t events) {
  if (!c->connected) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return 0;
    return on_connected(w, c);
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    if (on_readable(w, c) < 0) return -1;
  }
  if ((events & EPOLLOUT) && c->watching_out) return write_some(w, c);
  return 0;
}

static void* run_worker(void* arg) {
  struct worker* w = arg;
  struct epoll_event events[256];
  enum mode mode = w->sh->cfg->mode;
  for (;;) {
    int phase = phase_of(w);
    if (phase == STOP || atomic_load(&w->sh->failed)) break;
    // Also here, not only when a connection becomes ready: another worker may hold the budget.
    if (w->next_connect < w->n && connect_more(w) < 0) return NULL;
    if (!w->running && ((mode == PINGPONG && phase >= WARMUP) || (mode == IDLE && phase == RECHECK))) {
      // Every connection is up (or, idle, stdin has closed): the parked ones go on.
      w->running = true;
      for (int i = 0; i < w->n; i++) {
        struct conn* c = &w->conns[i];
        if (!c->parked) continue;
        c->parked = false;
        if (send_message(w, c) < 0) return NULL;
      }
    }
    int n = epoll_wait(w->epfd, events, 256, 20);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(w, "epoll_wait: %s", strerror(errno));
      break;
    }
    for (int i = 0; i < n; i++) {
      struct conn* c = events[i].data.ptr;
      if (c->done) continue;
      if (on_event(w, c, events[i].events) < 0) return NULL;
    }
  }
  return NULL;
}

// Raises the soft descriptor limit to what `conns` need (the hard limit permitting).
static int raise_nofile(int conns) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -1;
  rlim_t want = (rlim_t)conns + 64;
  if (rl.rlim_cur >= want) return 0;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
    fprintf(stderr, "loadgen: %d connections need %llu descriptors; the hard limit is %llu\n", conns,
            (unsigned long long)want, (unsigned long long)rl.rlim_max);
    return -1;
  }
  rl.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
    perror("loadgen: setrlimit(RLIMIT_NOFILE)");
    return -1;
  }
  return 0;
}

// Random bytes, repeated past the period so that any run of up to MAX_SIZE + READ_BUF bytes
// starting inside the period can be compared with one memcmp.
static unsigned char* make_pattern(void) {
  size_t len = PATTERN_PERIOD + MAX_SIZE + READ_BUF;
  unsigned char* p = malloc(len);
  if (!p) return NULL;
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < PATTERN_PERIOD; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (unsigned char)(x >> 24);
  }
  for (size_t i = PATTERN_PERIOD; i < len; i++) p[i] = p[i - PATTERN_PERIOD];
  return p;
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --port P [--host 127.0.0.1] [--mode pingpong|stream|idle] [--conns N]\n"
          "               [--size BYTES] [--threads T] [--warmup SEC] [--duration SEC]\n"
          "               [--window BYTES] [--setup-timeout SEC]\n");
}

static int parse_args(int argc, char** argv, struct config* cfg) {
  const char* host = "127.0.0.1";
  long port = -1;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "loadgen: %s needs a value\n", a);
      return -1;
    }
    i++;
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = strtol(v, NULL, 10);
    else if (!strcmp(a, "--mode")) {
      if (!strcmp(v, "pingpong")) cfg->mode = PINGPONG;
      else if (!strcmp(v, "stream")) cfg->mode = STREAM;
      else if (!strcmp(v, "idle")) cfg->mode = IDLE;
      else {
        fprintf(stderr, "loadgen: unknown mode %s\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--conns")) cfg->conns = atoi(v);
    else if (!strcmp(a, "--size")) cfg->size = (size_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--threads")) cfg->threads = atoi(v);
    else if (!strcmp(a, "--warmup")) cfg->warmup = atof(v);
    else if (!strcmp(a, "--duration")) cfg->duration = atof(v);
    else if (!strcmp(a, "--window")) cfg->window = (size_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--setup-timeout")) cfg->setup_timeout = atof(v);
    else {
      fprintf(stderr, "loadgen: unknown option %s\n", a);
      return -1;
    }
  }
  // Stream mode's default window is four chunks; the other modes have one message in flight.
  if (cfg->window == 0) cfg->window = cfg->mode == STREAM ? 4 * cfg->size : cfg->size;
  if (port <= 0 || port > 65535 || cfg->conns < 1 || cfg->size < 1 || cfg->size > MAX_SIZE || cfg->threads < 1 ||
      cfg->warmup < 0 || cfg->duration <= 0 || cfg->window < cfg->size || cfg->setup_timeout <= 0) {
    usage();
    return -1;
  }
  if (cfg->threads > cfg->conns) cfg->threads = cfg->conns;
  cfg->addr.sin_family = AF_INET;
  cfg->addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &cfg->addr.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address, got %s\n", host);
    return -1;
  }
  return 0;
}

// Waits until `counter` reaches `goal`, a worker fails, or `timeout` seconds pass.
static int wait_for(struct shared* sh, _Atomic int* counter, int goal, double timeout, const char* what) {
  uint64_t deadline = now_ns() + (uint64_t)(timeout * 1e9);
  while (atomic_load(counter) < goal) {
    if (atomic_load(&sh->failed)) return -1;
    if (now_ns() > deadline) {
      fprintf(stderr, "loadgen: %s: only %d of %d connections after %.0f s\n", what, atomic_load(counter), goal,
              timeout);
      return -1;
    }
    sleep_s(0.002);
  }
  return 0;
}

// Idle mode: the harness closes our stdin when it has measured the server.
static void wait_for_stdin_eof(void) {
  char buf[256];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

int main(int argc, char** argv) {
  struct config cfg = {.mode = PINGPONG, .conns = 1, .size = 64, .threads = 1, .warmup = 0.5, .duration = 2,
                       .setup_timeout = 30};
  if (parse_args(argc, argv, &cfg) < 0) return 2;
  if (raise_nofile(cfg.conns) < 0) return 1;
  unsigned char* pattern = make_pattern();
  if (!pattern) {
    fprintf(stderr, "loadgen: out of memory\n");
    return 1;
  }
  cfg.pattern = pattern;

  struct shared sh = {.cfg = &cfg};
  struct conn* conns = calloc((size_t)cfg.conns, sizeof *conns);
  struct worker* workers = calloc((size_t)cfg.threads, sizeof *workers);
  if (!conns || !workers) {
    fprintf(stderr, "loadgen: out of memory\n");
    return 1;
  }
  // Connections are dealt out in order: worker t has conns[t * per ...], contiguous.
  int per = cfg.conns / cfg.threads, extra = cfg.conns % cfg.threads, at = 0;
  for (int t = 0; t < cfg.threads; t++) {
    struct worker* w = &workers[t];
    w->sh = &sh;
    w->conns = &conns[at];
    w->n = per + (t < extra ? 1 : 0);
    at += w->n;
    w->buf = malloc(READ_BUF);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!w->buf || w->epfd < 0) {
      fprintf(stderr, "loadgen: worker setup: %s\n", strerror(errno));
      return 1;
    }
  }
  for (int i = 0; i < cfg.conns; i++) {
    conns[i].fd = -1;
    conns[i].id = i;
    conns[i].start = (uint32_t)(((uint64_t)i * 7919u) % PATTERN_PERIOD);
  }

  int status = 0;
  int started = 0;
  for (; started < cfg.threads; started++) {
    if (pthread_create(&workers[started].thread, NULL, run_worker, &workers[started]) != 0) {
      fprintf(stderr, "loadgen: pthread_create failed\n");
      status = 1;
      break;
    }
  }
  double seconds = 0;
  if (status == 0 && wait_for(&sh, &sh.ready, cfg.conns, cfg.setup_timeout, "setup") < 0) status = 1;
  if (status == 0 && cfg.mode == IDLE) {
    printf("{\"ready\":%d}\n", cfg.conns);
    fflush(stdout);
    wait_for_stdin_eof();
    atomic_store(&sh.phase, RECHECK);
    if (wait_for(&sh, &sh.rechecked, cfg.conns, cfg.setup_timeout, "recheck") < 0) status = 1;
  } else if (status == 0) {
    atomic_store(&sh.phase, WARMUP);
    sleep_s(cfg.warmup);
    uint64_t t0 = now_ns();
    atomic_store(&sh.phase, MEASURE);
    sleep_s(cfg.duration);
    atomic_store(&sh.phase, STOP);
    seconds = (double)(now_ns() - t0) / 1e9;
  }
  atomic_store(&sh.phase, STOP);
  for (int t = 0; t < started; t++) pthread_join(workers[t].thread, NULL);

  struct histogram hist = {0};
  uint64_t roundtrips = 0, bytes = 0, verified = 0;
  for (int t = 0; t < cfg.threads; t++) {
    struct worker* w = &workers[t];
    if (w->error[0]) {
      fprintf(stderr, "loadgen: %s\n", w->error);
      status = 1;
    }
    histogram_merge(&hist, &w->hist);
    roundtrips += w->roundtrips;
    bytes += w->bytes;
    verified += w->verified;
  }
  for (int i = 0; i < cfg.conns; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  if (status != 0) return status;

  static const char* const mode_names[] = {"pingpong", "stream", "idle"};
  printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%zu,\"threads\":%d,\"window\":%zu,\"seconds\":%.4f,"
         "\"roundtrips\":%llu,\"rps\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"bytes\":%llu,\"mbps\":%.2f,"
         "\"verified_bytes\":%llu}\n",
         mode_names[cfg.mode], cfg.conns, cfg.size, cfg.threads, cfg.mode == STREAM ? cfg.window : 0, seconds,
         (unsigned long long)roundtrips, seconds > 0 ? (double)roundtrips / seconds : 0,
         (double)histogram_percentile(&hist, 0.50) / 1e3, (double)histogram_percentile(&hist, 0.99) / 1e3,
         (unsigned long long)bytes, seconds > 0 ? (double)bytes / seconds / 1e6 : 0, (unsigned long long)verified);
  for (int t = 0; t < cfg.threads; t++) {
    free(workers[t].buf);
    close(workers[t].epfd);
  }
  free(workers);
  free(conns);
  free(pattern);
  return 0;
}

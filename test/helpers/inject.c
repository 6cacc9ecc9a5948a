/* Faults injected at the C library's door, for tests: built by test/helpers/inject.js with
 * `cc -shared -fPIC` and put into a child process with LD_PRELOAD, so that the addon is tested as
 * it ships, with no test knob in it. Each fault is armed by a file whose path an environment
 * variable names, so that the test decides when, and no other program is touched:
 *
 *   SR_INJECT_THREAD_FAILURE=path  while `path` exists, pthread_create() fails with EAGAIN, as it
 *                                  does when a process is out of threads or memory for stacks,
 *                                  and takes 20 ms to, as a kernel short of memory may: time for
 *                                  other threads to run while the caller waits for the answer.
 *   SR_INJECT_SPURIOUS_ACCEPT=path the next poll() whose first descriptor is a listening socket
 *                                  reports it readable at once, without a connection behind it,
 *                                  and removes `path`: what a waiter sees when another process
 *                                  accepts the connection between its poll() and its accept().
 *
 * With ASan's runtime first in LD_PRELOAD (npm run test:asan), its interceptors call these,
 * which call the C library's own (RTLD_NEXT).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);

static int armed(const char *name) {
  const char *path = getenv(name);
  return path != NULL && access(path, F_OK) == 0;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
  create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
  if (armed("SR_INJECT_THREAD_FAILURE")) {
    usleep(20000);
    return EAGAIN;
  }
  return real(thread, attr, start, arg);
}

static int listening(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int poll(struct pollfd *fds, nfds_t n, int timeout) {
  poll_fn real = (poll_fn)dlsym(RTLD_NEXT, "poll");
  const char *path = getenv("SR_INJECT_SPURIOUS_ACCEPT");
  if (path != NULL && n > 0 && listening(fds[0].fd) && unlink(path) == 0) {
    for (nfds_t i = 0; i < n; i++) fds[i].revents = 0;
    fds[0].revents = POLLIN;
    return 1;
  }
  return real(fds, n, timeout);
}

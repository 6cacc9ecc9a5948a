// socket.outbox: the per-socket outbound queue (the seed's message_queues[s]), kept natively so a
// partial write can never lose the rest. Like libuv's write queue: put() copies, a counter keeps
// the pending bytes, flush() is one gather write (sendmsg, MSG_NOSIGNAL) that advances the head
// past whatever the kernel took, and EAGAIN means "come back when writable".
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <new>

#include "call.h"

namespace sr {

namespace {

// Small messages put behind bytes still waiting share a chunk of at least this size, so a backlog
// of tiny puts costs few allocations and few iovecs.
constexpr size_t kChunkMin = 4 * 1024;
constexpr int kMaxIov = 64;

}  // namespace

// By id (Handle::InitById): put, flush, pending and peek take the Handle's id first.

// put(id, data) -> bytes queued after it (the TypeScript Outbox keeps that count, so that pending and
// empty() need no call).
Napi::Value Handle::JS_outboxPut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes b;
  ArgBytes(info[1], "data", &b);
  Fd(env, "outbox.put");
  if (b.len == 0) return Napi::Number::New(env, static_cast<double>(pending_));
  if (head_ < queue_.size()) {
    Chunk& tail = queue_.back();
    if (tail.cap - tail.len >= b.len) {
      memcpy(tail.data.get() + tail.len, b.data, b.len);
      tail.len += b.len;
      pending_ += b.len;
      return Napi::Number::New(env, static_cast<double>(pending_));
    }
  }
  Chunk c;
  // Into an empty queue, the message's own size: the usual case is one message written out on
  // the next turn, and a small allocation is one the allocator serves from its per-thread cache.
  c.cap = head_ == queue_.size() ? b.len : std::max(b.len, kChunkMin);
  c.data.reset(new (std::nothrow) char[c.cap]);
  if (!c.data) ThrowSys(env, "outbox.put", ENOMEM, std::to_string(c.cap) + " bytes");
  memcpy(c.data.get(), b.data, b.len);
  c.len = b.len;
  queue_.push_back(std::move(c));
  pending_ += b.len;
  return Napi::Number::New(env, static_cast<double>(pending_));
}

void Handle::OutboxAdvance(size_t n) {
  pending_ -= n;
  while (n > 0) {
    size_t left = queue_[head_].len - head_off_;
    if (n < left) {
      head_off_ += n;
      return;
    }
    n -= left;
    queue_[head_].data.reset();  // free a written chunk now, not when the queue empties
    head_++;
    head_off_ = 0;
  }
  if (head_ == queue_.size()) {
    queue_.clear();
    head_ = 0;
  } else if (head_ >= 64 && head_ * 2 >= queue_.size()) {
    // A long-lived backlog: drop the written prefix now and then, not on every write.
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

// flush(id) -> bytes still queued. Never waits on a socket with a timeout: one that would block
// writes nothing. A blocking socket writes everything, as sendall() does. (The TypeScript flush()
// returns what was written: its count before, less this.)
Napi::Value Handle::JS_outboxFlush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "outbox.flush");
  while (pending_ > 0) {
    iovec iov[kMaxIov];
    int n = 0;
    size_t want = 0;
    for (size_t i = head_; i < queue_.size() && n < kMaxIov; i++, n++) {
      size_t off = i == head_ ? head_off_ : 0;
      iov[n].iov_base = queue_[i].data.get() + off;
      iov[n].iov_len = queue_[i].len - off;
      want += iov[n].iov_len;
    }
    // A blocking socket waits as its send() would, so that a caught signal can end the wait.
    auto write = [&](bool dontwait) { return sr_sendmsg(fd, iov, n, dontwait ? MSG_DONTWAIT : 0); };
    ssize_t r = timeout_ >= 0 ? write(true) : Call(env, "sendmsg", POLLOUT, write, -1);
    if (r < 0) {
      if (r == -EAGAIN || r == -EWOULDBLOCK) break;
      ThrowSys(env, "sendmsg", static_cast<int>(-r));
    }
    OutboxAdvance(static_cast<size_t>(r));
    if (static_cast<size_t>(r) < want && timeout_ >= 0) break;  // the kernel took what it could for now
  }
  return Napi::Number::New(env, static_cast<double>(pending_));
}

Napi::Value Handle::JS_outboxPending(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(pending_));
}

Napi::Value Handle::JS_outboxClear(const Napi::CallbackInfo& info) {
  std::vector<Chunk>().swap(queue_);  // frees the memory too; clear() would keep it
  head_ = head_off_ = pending_ = 0;
  return info.Env().Undefined();
}

// peek(id, max, into, offset) -> count: copies the first min(max, pending) queued bytes into `into`
// at `offset` (the TypeScript peek() passes its pool and returns a view), for logs and tests.
Napi::Value Handle::JS_outboxPeek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t max = static_cast<size_t>(ArgIntOr(info, 1, "max", 0, INT32_MAX, static_cast<int64_t>(pending_)));
  char* data;
  size_t len;
  if (!ViewBytes(info[2], &data, &len)) throw Napi::TypeError::New(env, "Expected into to be a Uint8Array");
  size_t offset = static_cast<size_t>(ArgInt(info[3], "offset", 0, INT32_MAX));
  size_t n = std::min(max, pending_);
  if (offset > len || len - offset < n) throw Napi::RangeError::New(env, "Expected room for the bytes at offset");
  char* out = data + offset;
  size_t off = 0;
  for (size_t i = head_; i < queue_.size() && off < n; i++) {
    size_t from = i == head_ ? head_off_ : 0;
    size_t take = std::min(queue_[i].len - from, n - off);
    memcpy(out + off, queue_[i].data.get() + from, take);
    off += take;
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace sr

// socket.outbox: the per-socket outbound queue (the seed's message_queues[s]), kept natively so a
// partial write can never lose the rest. Like libuv's write queue: put() copies, a counter keeps
// the pending bytes, flush() is one write (send of one buffer, else a gather write: sendmsg;
// MSG_NOSIGNAL) that advances the head past whatever the kernel took, and EAGAIN means "come back
// when writable". On a message socket (datagrams, SEQPACKET) each put() is one message, kept
// whole and sent alone.
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
// The largest written chunk an outbox keeps for its next put(): a small echo's, never a stream's
// (ten thousand connections keep at most 10 MiB between them).
constexpr size_t kSpareMax = 1024;

}  // namespace

// Called by id (Handle::Init): each takes the socket's id first.

// put(id, data) -> bytes queued after it (the TypeScript Outbox keeps that count, so that pending and
// empty() need no call). An empty put() queues nothing, on a message socket too: a message of no
// bytes would leave pending at 0 with something still to send.
Napi::Value Handle::JS_outboxPut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes b;
  ArgBytes(info[1], "data", &b);
  Fd(env, "outbox.put");
  if (b.len == 0) return Napi::Number::New(env, static_cast<double>(pending_));
  if (head_ < queue_.size() && !Messages()) {
    Chunk& tail = queue_.back();
    if (tail.cap - tail.len >= b.len) {
      memcpy(tail.data.get() + tail.len, b.data, b.len);
      tail.len += b.len;
      pending_ += b.len;
      OutboxCheck();
      return Napi::Number::New(env, static_cast<double>(pending_));
    }
  }
  Chunk c;
  // Into an empty queue, the message's own size: the usual case is one message written out on
  // the next turn. A message socket's chunk is one message and takes nothing more.
  c.cap = head_ == queue_.size() || Messages() ? b.len : std::max(b.len, kChunkMin);
  if (head_ == queue_.size() && spare_.data && spare_.cap >= b.len) {
    c.data = std::move(spare_.data);  // the last chunk written out, small: no malloc, no free
    c.cap = spare_.cap;
  } else {
    c.data.reset(new (std::nothrow) char[c.cap]);
    if (!c.data) ThrowSys(env, "outbox.put", ENOMEM, std::to_string(c.cap) + " bytes");
  }
  memcpy(c.data.get(), b.data, b.len);
  c.len = b.len;
  queue_.push_back(std::move(c));
  pending_ += b.len;
  OutboxCheck();
  return Napi::Number::New(env, static_cast<double>(pending_));
}

void Handle::OutboxAdvance(size_t n) {
  pending_ -= n;
  while (n > 0) {
    size_t left = queue_[head_].len - head_off_;
    if (n < left) {
      head_off_ += n;
      OutboxCheck();
      return;
    }
    n -= left;
    // Free a written chunk now, not when the queue empties; but keep the last one, if small, for
    // the next put(): a connection that echoes small messages then allocates nothing per message.
    Chunk& done = queue_[head_];
    if (head_ + 1 == queue_.size() && done.cap <= kSpareMax && !Messages()) {
      spare_.data = std::move(done.data);
      spare_.cap = done.cap;
    } else {
      done.data.reset();
    }
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
  OutboxCheck();
}

// The queue's invariants: pending_ is the sum of the bytes not yet written, from head_off_ into
// the head chunk on; the head's offset lies inside it; an empty queue has nothing pending and no
// head; a written chunk has been freed; on a message socket every chunk is one whole message,
// never shared with another and never written in part. The sum walks the queue, so it runs when
// few chunks are left and at each power-of-two count of a long backlog: checking stays linear in
// the puts, not quadratic.
void Handle::OutboxCheck() const {
  if (!kChecks) return;
  SR_ASSERT(!spare_.data || (spare_.cap <= kSpareMax && !Messages()));
  if (queue_.empty()) {
    SR_ASSERT(pending_ == 0 && head_ == 0 && head_off_ == 0);
    return;
  }
  SR_ASSERT(head_ < queue_.size());  // a queue written out is emptied at once (OutboxAdvance)
  SR_ASSERT(head_off_ < queue_[head_].len);
  SR_ASSERT(!Messages() || head_off_ == 0);
  size_t left = queue_.size() - head_;
  if (left > kMaxIov && (left & (left - 1)) != 0) return;
  size_t sum = 0;
  for (size_t i = 0; i < queue_.size(); i++) {
    const Chunk& c = queue_[i];
    if (i < head_) {
      SR_ASSERT(!c.data);
      continue;
    }
    SR_ASSERT(c.data && c.len > 0 && c.len <= c.cap);  // an empty put() queues no chunk
    SR_ASSERT(!Messages() || c.len == c.cap);          // one message, alone in its chunk
    sum += c.len;
  }
  SR_ASSERT(sum - head_off_ == pending_);
}

// flush(id) -> bytes still queued. Never waits on a socket with a timeout: one that would block
// writes nothing. A blocking socket writes everything, as sendall() does. (The TypeScript flush()
// returns what was written: its count before, less this.) A stream socket writes every queued
// chunk in one gather write; a message socket one message per sendmsg(), which the kernel takes
// whole or not at all. A message the kernel refuses for its size (EMSGSIZE) would be refused
// again on every flush: it is dropped, and the error thrown once.
Napi::Value Handle::JS_outboxFlush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "outbox.flush");
  const int max_iov = Messages() ? 1 : kMaxIov;
  while (pending_ > 0) {
    iovec iov[kMaxIov];
    int n = 0;
    size_t want = 0;
    for (size_t i = head_; i < queue_.size() && n < max_iov; i++, n++) {
      size_t off = i == head_ ? head_off_ : 0;
      iov[n].iov_base = queue_[i].data.get() + off;
      iov[n].iov_len = queue_[i].len - off;
      want += iov[n].iov_len;
    }
    // A blocking socket waits as its send() would, so that a caught signal can end the wait.
    // One buffer on a stream, the usual echo, is a plain send(): the kernel then has no message
    // header and no iovec array to copy in, a measurable part of a small write.
    const bool single = n == 1 && !Messages();
    const char* syscall = single ? "send" : "sendmsg";
    auto write = [&](bool dontwait) {
      int flags = dontwait ? MSG_DONTWAIT : 0;
      return single ? sr_send(fd, iov[0].iov_base, iov[0].iov_len, flags) : sr_sendmsg(fd, iov, n, flags);
    };
    ssize_t r = timeout_ >= 0 ? write(true) : Call(env, syscall, POLLOUT, write, -1);
    if (r < 0) {
      if (r == -EAGAIN || r == -EWOULDBLOCK) break;
      if (r == -EMSGSIZE && Messages()) {
        OutboxAdvance(want);
        ThrowSys(env, syscall, EMSGSIZE, "a message of " + std::to_string(want) + " bytes, dropped from the outbox");
      }
      ThrowSys(env, syscall, static_cast<int>(-r));
    }
    OutboxAdvance(static_cast<size_t>(r));
    if (static_cast<size_t>(r) < want && timeout_ >= 0) break;  // the kernel took what it could for now
  }
  return Napi::Number::New(env, static_cast<double>(pending_));
}

Napi::Value Handle::JS_outboxPending(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(pending_));
}

void Handle::OutboxClear() {
  std::vector<Chunk>().swap(queue_);  // frees the memory too; clear() would keep it
  spare_ = Chunk();
  head_ = head_off_ = pending_ = 0;
  OutboxCheck();
}

Napi::Value Handle::JS_outboxClear(const Napi::CallbackInfo& info) {
  OutboxClear();
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

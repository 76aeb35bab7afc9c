// C11 threads that ThreadSanitizer sees, preloaded into the tests of a TSan build.
//
// librdkafka starts its threads and takes its locks with C11 <threads.h>. In Debian 12,
// glibc implements those on its internal pthread functions, which GCC 12's TSan runtime
// does not intercept: librdkafka's threads would run without TSan's per-thread state (and
// crash on their first allocation) and its locks would be invisible, so every hand-off
// through its queues would look like a race. These definitions, preloaded ahead of libc
// (LD_PRELOAD, set by `tools/dev test --sanitize thread`), forward to the public pthread
// functions, which TSan intercepts. Built without the sanitizer, so that preloading it into
// other processes (the shell, the JVM) is harmless.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(thrd_t) == sizeof(pthread_t));

namespace {

struct c11_start {
  thrd_start_t function;
  void* argument;
};

void* run_c11_start(void* raw) {
  auto start = *static_cast<c11_start*>(raw);
  std::free(raw);
  // thrd_join reads the int result back out of the pointer.
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

int c11_result(int pthread_result) {
  switch (pthread_result) {
  case 0:
    return thrd_success;
  case ETIMEDOUT:
    return thrd_timedout;
  case EBUSY:
    return thrd_busy;
  case ENOMEM:
  case EAGAIN:
    return thrd_nomem;
  default:
    return thrd_error;
  }
}

pthread_mutex_t* native(mtx_t* mutex) {
  return reinterpret_cast<pthread_mutex_t*>(mutex);
}
pthread_cond_t* native(cnd_t* condition) {
  return reinterpret_cast<pthread_cond_t*>(condition);
}

} // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = static_cast<c11_start*>(std::malloc(sizeof(c11_start)));
  if (start == nullptr)
    return thrd_nomem;
  *start = {function, argument};
  pthread_t created;
  int rc = pthread_create(&created, nullptr, run_c11_start, start);
  if (rc != 0) {
    std::free(start);
    return c11_result(rc);
  }
  *thread = created;
  return thrd_success;
}

int thrd_join(thrd_t thread, int* result) {
  void* returned = nullptr;
  int rc = pthread_join(thread, &returned);
  if (rc == 0 && result != nullptr)
    *result = static_cast<int>(reinterpret_cast<std::intptr_t>(returned));
  return c11_result(rc);
}

int thrd_detach(thrd_t thread) {
  return c11_result(pthread_detach(thread));
}

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if (type & mtx_recursive)
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  int rc = pthread_mutex_init(native(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return c11_result(rc);
}

int mtx_lock(mtx_t* mutex) {
  return c11_result(pthread_mutex_lock(native(mutex)));
}
int mtx_trylock(mtx_t* mutex) {
  return c11_result(pthread_mutex_trylock(native(mutex)));
}
int mtx_timedlock(mtx_t* __restrict mutex, const struct timespec* __restrict until) {
  return c11_result(pthread_mutex_timedlock(native(mutex), until));
}
int mtx_unlock(mtx_t* mutex) {
  return c11_result(pthread_mutex_unlock(native(mutex)));
}
void mtx_destroy(mtx_t* mutex) {
  pthread_mutex_destroy(native(mutex));
}

int cnd_init(cnd_t* condition) {
  return c11_result(pthread_cond_init(native(condition), nullptr));
}
int cnd_signal(cnd_t* condition) {
  return c11_result(pthread_cond_signal(native(condition)));
}
int cnd_broadcast(cnd_t* condition) {
  return c11_result(pthread_cond_broadcast(native(condition)));
}
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return c11_result(pthread_cond_wait(native(condition), native(mutex)));
}
int cnd_timedwait(cnd_t* __restrict condition, mtx_t* __restrict mutex,
                  const struct timespec* __restrict until) {
  return c11_result(pthread_cond_timedwait(native(condition), native(mutex), until));
}
void cnd_destroy(cnd_t* condition) {
  pthread_cond_destroy(native(condition));
}

} // extern "C"

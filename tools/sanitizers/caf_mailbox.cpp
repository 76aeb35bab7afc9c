// CAF 0.17's message hand-offs made visible to ThreadSanitizer, preloaded into the tests of
// a TSan build together with c11_threads.cpp.
//
// Debian's libcaf_core is not instrumented, and its mailboxes are lock-free: a sender
// pushes a message with an atomic exchange that TSan never sees, so every message read on
// the receiving actor's thread would be reported as a race with its construction on the
// sender's. These wrappers interpose the exported functions through which every message
// passes (libcaf_core binds them through its vtables and PLT, so a preloaded definition
// wins) and tell TSan what the mailbox guarantees: whatever a thread did before it enqueued
// a message to an actor happens before that actor handles its next messages. Each wrapper
// forwards to CAF's own definition. Races between actors that share memory outside
// messages are still reported.
#include <dlfcn.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

extern "C" void __tsan_acquire(void* address) __attribute__((weak));
extern "C" void __tsan_release(void* address) __attribute__((weak));

namespace {

// The actor whose mailbox this thread is draining (CAF's queues know only themselves).
thread_local void* draining_actor = nullptr;

void acquire(void* actor) {
  if (actor != nullptr && __tsan_acquire != nullptr)
    __tsan_acquire(actor);
}

void release(void* actor) {
  if (__tsan_release != nullptr)
    __tsan_release(actor);
}

template <class Function>
Function next_definition(const char* symbol) {
  void* found = dlsym(RTLD_NEXT, symbol);
  if (found == nullptr) {
    std::fprintf(stderr, "caf_mailbox: %s not found after the preload\n", symbol);
    std::abort();
  }
  return reinterpret_cast<Function>(found);
}

// What intrusive::drr_cached_queue<...>::new_round returns (caf/intrusive/new_round_result.hpp
// of CAF 0.17.6): two one-bit flags in one byte, returned in a register.
struct new_round_result {
  bool consumed_items : 1;
  bool stop_all : 1;
};
static_assert(sizeof(new_round_result) == 1);

using new_round_function = new_round_result (*)(void*, std::size_t, void*);

new_round_result acquire_then_new_round(new_round_function next, void* queue,
                                        std::size_t quantum, void* consumer) {
  acquire(draining_actor);
  auto result = next(queue, quantum, consumer);
  if (draining_actor != nullptr)
    release(draining_actor);
  return result;
}

} // namespace

// The mangled names are CAF 0.17.6's; a `unique_ptr` argument travels as a pointer to it.
#define EDDY_CAF_SYMBOL(name) __asm__(#name)

#define EDDY_CAF_ENQUEUE(symbol, function)                                                     \
  extern "C" void function(void* actor, void* element, void* unit) EDDY_CAF_SYMBOL(symbol);    \
  extern "C" void function(void* actor, void* element, void* unit) {                           \
    release(actor);                                                                            \
    static auto next = next_definition<void (*)(void*, void*, void*)>(#symbol);                \
    next(actor, element, unit);                                                                \
  }

EDDY_CAF_ENQUEUE(
  _ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE,
  eddy_tsan_scheduled_enqueue)
EDDY_CAF_ENQUEUE(
  _ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_6detail8disposerEEPNS_14execution_unitE,
  eddy_tsan_blocking_enqueue)

// Spawning: what the spawner wrote into the actor happens before the actor first runs.
extern "C" void eddy_tsan_scheduled_launch(void* actor, void* unit, bool lazy, bool hide)
  EDDY_CAF_SYMBOL(_ZN3caf15scheduled_actor6launchEPNS_14execution_unitEbb);
extern "C" void eddy_tsan_scheduled_launch(void* actor, void* unit, bool lazy, bool hide) {
  release(actor);
  static auto next = next_definition<void (*)(void*, void*, bool, bool)>(
    "_ZN3caf15scheduled_actor6launchEPNS_14execution_unitEbb");
  next(actor, unit, lazy, hide);
}

// A scheduler thread runs an actor: resume through the actor or through its `resumable`
// base, which sits 160 bytes into a scheduled_actor. What one run of an actor wrote happens
// before its next run, on whichever thread that is.
#define EDDY_CAF_RESUME(symbol, function, offset)                                              \
  extern "C" int function(char* self, void* unit, std::size_t budget) EDDY_CAF_SYMBOL(symbol); \
  extern "C" int function(char* self, void* unit, std::size_t budget) {                        \
    void* previous = draining_actor;                                                           \
    draining_actor = self - (offset);                                                          \
    acquire(draining_actor);                                                                   \
    static auto next = next_definition<int (*)(char*, void*, std::size_t)>(#symbol);           \
    int result = next(self, unit, budget);                                                     \
    release(self - (offset));                                                                  \
    draining_actor = previous;                                                                 \
    return result;                                                                             \
  }

EDDY_CAF_RESUME(_ZN3caf15scheduled_actor6resumeEPNS_14execution_unitEm,
                eddy_tsan_scheduled_resume, 0)
EDDY_CAF_RESUME(_ZThn160_N3caf15scheduled_actor6resumeEPNS_14execution_unitEm,
                eddy_tsan_scheduled_resume_thunk, 160)

// A blocking actor receives on its own thread.
extern "C" void eddy_tsan_blocking_receive(void* actor, void* condition, std::size_t id,
                                           void* behavior)
  EDDY_CAF_SYMBOL(
    _ZN3caf14blocking_actor12receive_implERNS0_12receive_condENS_10message_idERNS_6detail17blocking_behaviorE);
extern "C" void eddy_tsan_blocking_receive(void* actor, void* condition, std::size_t id,
                                           void* behavior) {
  void* previous = draining_actor;
  draining_actor = actor;
  acquire(actor);
  static auto next = next_definition<void (*)(void*, void*, std::size_t, void*)>(
    "_ZN3caf14blocking_actor12receive_implERNS0_12receive_condENS_10message_idERNS_"
    "6detail17blocking_behaviorE");
  next(actor, condition, id, behavior);
  draining_actor = previous;
}

extern "C" void* eddy_tsan_blocking_dequeue(void* result, void* actor)
  EDDY_CAF_SYMBOL(_ZN3caf14blocking_actor7dequeueEv);
extern "C" void* eddy_tsan_blocking_dequeue(void* result, void* actor) {
  static auto next =
    next_definition<void* (*)(void*, void*)>("_ZN3caf14blocking_actor7dequeueEv");
  next(result, actor);
  acquire(actor);
  return result;
}

// Each round over a mailbox's queues handles the messages fetched so far; what it did
// happens before the actor's next round.
#define EDDY_CAF_NEW_ROUND(symbol, function)                                                   \
  extern "C" new_round_result function(void* queue, std::size_t quantum, void* consumer)       \
    EDDY_CAF_SYMBOL(symbol);                                                                   \
  extern "C" new_round_result function(void* queue, std::size_t quantum, void* consumer) {     \
    static auto next = next_definition<new_round_function>(#symbol);                           \
    return acquire_then_new_round(next, queue, quantum, consumer);                             \
  }

EDDY_CAF_NEW_ROUND(
  _ZN3caf9intrusive16drr_cached_queueINS_6policy15normal_messagesEE9new_roundINS0_28wdrr_fixed_multiplexed_queueINS2_11categorizedENS1_INS2_15urgent_messagesEEEJS4_NS0_9drr_queueINS2_17upstream_messagesEEENS0_30wdrr_dynamic_multiplexed_queueINS2_19downstream_messagesEEEEE26new_round_recursion_helperILm1ES4_NS_15scheduled_actor15mailbox_visitorEEEEENS0_16new_round_resultEmRT_,
  eddy_tsan_scheduled_normal_round)
EDDY_CAF_NEW_ROUND(
  _ZN3caf9intrusive16drr_cached_queueINS_6policy15urgent_messagesEE9new_roundINS0_28wdrr_fixed_multiplexed_queueINS2_11categorizedES4_JNS1_INS2_15normal_messagesEEENS0_9drr_queueINS2_17upstream_messagesEEENS0_30wdrr_dynamic_multiplexed_queueINS2_19downstream_messagesEEEEE26new_round_recursion_helperILm0ES4_NS_15scheduled_actor15mailbox_visitorEEEEENS0_16new_round_resultEmRT_,
  eddy_tsan_scheduled_urgent_round)
EDDY_CAF_NEW_ROUND(
  _ZN3caf9intrusive16drr_cached_queueINS_6policy15normal_messagesEE9new_roundINS0_28wdrr_fixed_multiplexed_queueINS2_11categorizedES4_JNS1_INS2_15urgent_messagesEEEEE26new_round_recursion_helperILm0ES4_NS_14blocking_actor15mailbox_visitorEEEEENS0_16new_round_resultEmRT_,
  eddy_tsan_blocking_normal_round)
EDDY_CAF_NEW_ROUND(
  _ZN3caf9intrusive16drr_cached_queueINS_6policy15urgent_messagesEE9new_roundINS0_28wdrr_fixed_multiplexed_queueINS2_11categorizedENS1_INS2_15normal_messagesEEEJS4_EE26new_round_recursion_helperILm1ES4_NS_14blocking_actor15mailbox_visitorEEEEENS0_16new_round_resultEmRT_,
  eddy_tsan_blocking_urgent_round)

// Dropping a reference to an actor: what the dropping thread did happens before the actor
// (or its control block) is destroyed by whichever thread drops the last one. The count
// is decremented inside CAF, so TSan's view can miss a reference dropped in the few
// instructions between another thread's acquire and its decrement; no such report was
// seen in the actors' tests.
#define EDDY_CAF_RELEASE_REFERENCE(symbol, function)                                           \
  extern "C" void function(void* control_block) EDDY_CAF_SYMBOL(symbol);                       \
  extern "C" void function(void* control_block) {                                              \
    release(control_block);                                                                    \
    acquire(control_block);                                                                    \
    static auto next = next_definition<void (*)(void*)>(#symbol);                              \
    next(control_block);                                                                       \
  }

EDDY_CAF_RELEASE_REFERENCE(_ZN3caf21intrusive_ptr_releaseEPNS_19actor_control_blockE,
                           eddy_tsan_release_strong_reference)
EDDY_CAF_RELEASE_REFERENCE(_ZN3caf26intrusive_ptr_release_weakEPNS_19actor_control_blockE,
                           eddy_tsan_release_weak_reference)

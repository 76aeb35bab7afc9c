// Must not compile: a handler reaches its partition's state through eddy::state_view,
// which has no commit, rollback, set_checkpoint or staged_rows; those belong to the
// runtime. Built only by the tests handler_state_<operation>_does_not_compile, which pick
// the operation with EDDY_STATE_MISUSE and expect the compiler to name the missing member.

#include <eddy/context.hpp>

void misuse(eddy::context& ctx) {
  ctx.state().put("k", "v"); // what a handler may do
#if EDDY_STATE_MISUSE == 1
  (void)ctx.state().commit();
#elif EDDY_STATE_MISUSE == 2
  ctx.state().rollback();
#elif EDDY_STATE_MISUSE == 3
  ctx.state().set_checkpoint("input", 0, 1);
#elif EDDY_STATE_MISUSE == 4
  (void)ctx.state().staged_rows();
#endif
}

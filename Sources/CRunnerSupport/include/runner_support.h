/*
 * runner_support.h — the few Linux calls the provider runner needs that Swift cannot call directly (prctl and
 * close_range are variadic or missing from Swift's Glibc module). Used only by molecule-provider-runner at start-up,
 * before any provider code is loaded.
 */
#ifndef MOLECULE_RUNNER_SUPPORT_H
#define MOLECULE_RUNNER_SUPPORT_H

/** Asks the kernel to send `signal` to this process when its parent thread exits (PR_SET_PDEATHSIG). 0 on success. */
int molecule_runner_set_parent_death_signal(int signal);

/** Closes every descriptor >= `first` (close_range, or a /proc/self/fd walk where the kernel lacks it). */
void molecule_runner_close_from(int first);

#endif

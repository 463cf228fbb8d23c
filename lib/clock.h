/*
 * The clocks, for the daemon and the client alike: the wall clock for what
 * is shown and journaled, the monotonic one for every interval and deadline.
 */
#ifndef RW_CLOCK_H
#define RW_CLOCK_H
#include <stdint.h>

int64_t	 now_unix_ms(void);	/* CLOCK_REALTIME, ms since the epoch */
uint64_t now_mono_us(void);	/* CLOCK_MONOTONIC, us */
int64_t	 now_mono_ms(void);	/* CLOCK_MONOTONIC, ms */

#endif

/*
 * The clocks (clock.h): one file of its own, so a test can link its own
 * clock in place of this one.
 */
#include <stdint.h>
#include <time.h>

#include "clock.h"

int64_t
now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
now_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t
now_mono_ms(void)
{
	return (int64_t)(now_mono_us() / 1000);
}

/*
 * libFuzzer harness for config_load: each input is written to a temporary
 * file and loaded; a config or an error are both fine, a crash, a leak or
 * an unterminated error message are not.
 *
 * Build and run (from the top of the tree):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 \
 *       -fsanitize=fuzzer,address,undefined -Ilib \
 *       tests/fuzz/fuzz_config.c lib/config.c lib/xmalloc.c lib/log.c \
 *       $(pkg-config --cflags --libs inih libsystemd) -o fuzz_config
 *   mkdir -p corpus && cp conf/replwatch.conf corpus/
 *   ./fuzz_config -max_len=4096 corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char path[] = "/tmp/fuzz_config.XXXXXX";
static int fd = -1;

static void
cleanup(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rw_config *cf;
	char err[512];

	/* One file for the whole run, rewritten each time: no litter in /tmp. */
	if (fd == -1) {
		if ((fd = mkstemp(path)) == -1)
			abort();
		atexit(cleanup);
	}
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(err, 'x', sizeof err);
	cf = config_load(path, err, sizeof err);
	if (cf == NULL && memchr(err, '\0', sizeof err) == NULL)
		abort();
	if (cf != NULL) {
		if (cf->ntargets == 0)
			abort();
		for (size_t i = 0; i < cf->ntargets; i++)
			if (config_target(cf, cf->targets[i].name) !=
			    &cf->targets[i])
				abort();
	}
	config_free(cf);
	return 0;
}

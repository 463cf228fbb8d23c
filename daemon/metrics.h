/* Prometheus text exposition at http://metrics_listen/metrics (our own bounded HTTP). */
#ifndef RW_METRICS_H
#define RW_METRICS_H
#include "daemon.h"

int	metrics_init(struct daemon *, char *err, size_t errlen);
void	metrics_shutdown(void);

#endif

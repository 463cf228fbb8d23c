/* What replwatchctl says about itself (help.c). */
#ifndef CTL_HELP_H
#define CTL_HELP_H
#include <stdio.h>

void	help_usage(FILE *);
void	help_command(const struct ctl_cmd *);
void	help_complete_table(void);

#endif

/* The CLI's own start-up tuning; see cli.c. */
#ifndef OCIRT_CLI_H
#define OCIRT_CLI_H

void cli_timerslack(void);
void cli_one_cpu(void);

#endif

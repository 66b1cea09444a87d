/* The dwsnet subcommands' handlers (commands.def); every tools/cmd_*.c includes this. */
#ifndef DWS_COMMANDS_H
#define DWS_COMMANDS_H

#define DWS_COMMAND(name, handler, options, summary) int handler(int argc, char **argv);
#include "commands.def"
#undef DWS_COMMAND

#endif

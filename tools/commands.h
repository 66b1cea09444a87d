#ifndef DWS_COMMANDS_H
#define DWS_COMMANDS_H

#define DWS_COMMAND(name, handler, summary) int handler(int argc, char **argv);
#include "commands.def"
#undef DWS_COMMAND

#endif

#ifndef DWS_VERSION_H
#define DWS_VERSION_H
#define DWS_VERSION "0.1.0"
#endif

/* The release, shared by replwatchd and replwatchctl. */
#ifndef RW_VERSION_H
#define RW_VERSION_H

#define RW_VERSION	"0.1.0"

#endif

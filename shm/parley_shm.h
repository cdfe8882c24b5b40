/*
 * parley shared-memory library: common types.
 *
 * Everything under shm/ is nginx-free: it works on a region of memory that
 * its caller maps (an nginx shared zone in the module, an anonymous shared
 * mapping in the unit tests) and never stores a pointer inside that region,
 * only indices, so any process that maps it may use it.
 */

#ifndef _PARLEY_SHM_H_INCLUDED_
#define _PARLEY_SHM_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


typedef enum {
    PARLEY_OK = 0,
    PARLEY_ERR_INVAL,          /* bad argument */
    PARLEY_ERR_NOSPACE,        /* region too small for the asked geometry */
    PARLEY_ERR_GEOMETRY,       /* region laid out with another geometry */
    PARLEY_ERR_TOO_MANY_ROOMS,
    PARLEY_ERR_ROOM_EXISTS,
    PARLEY_ERR_ROOM_NOT_FOUND,
    PARLEY_ERR_ROOM_FULL,      /* per-room participant limit reached */
    PARLEY_ERR_SERVER_FULL,    /* participant pool exhausted */
    PARLEY_ERR_NOT_FOUND,
    PARLEY_ERR_FULL,           /* a queue is full */
    PARLEY_ERR_EMPTY,
    PARLEY_ERR_LAPPED          /* a ring reader was overtaken by the writer */
} parley_rc_t;


#define PARLEY_NONE  UINT32_MAX


const char *parley_rc_str(parley_rc_t rc);


#endif /* _PARLEY_SHM_H_INCLUDED_ */

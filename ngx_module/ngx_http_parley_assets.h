/*
 * parley: the web app's files, compiled into the module by
 * tools/embed-assets.sh (see config).
 */

#ifndef _NGX_HTTP_PARLEY_ASSETS_H_INCLUDED_
#define _NGX_HTTP_PARLEY_ASSETS_H_INCLUDED_


#include <stddef.h>


typedef struct {
    const char           *path;            /* "/index.html" */
    const char           *content_type;
    const unsigned char  *data;
    size_t                size;
} ngx_http_parley_asset_t;


/* Ends with an entry whose path is NULL. */
extern const ngx_http_parley_asset_t  ngx_http_parley_assets[];


#endif /* _NGX_HTTP_PARLEY_ASSETS_H_INCLUDED_ */

/*
 * parley: serves the web app (join page and conversation app) from the
 * files compiled into the module, so that an operator needs no document
 * root. The location's own prefix is stripped: with "location /meet/ {
 * parley_app; }", /meet/ is index.html and /meet/app.js is app.js.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_parley_module.h"
#include "ngx_http_parley_assets.h"


static const ngx_http_parley_asset_t *ngx_http_parley_app_find(
    ngx_http_request_t *r);


ngx_int_t
ngx_http_parley_app_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_buf_t                      *b;
    ngx_chain_t                     out;
    ngx_table_elt_t                *h;
    const ngx_http_parley_asset_t  *asset;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    asset = ngx_http_parley_app_find(r);
    if (asset == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = asset->size;
    r->headers_out.content_type.data = (u_char *) asset->content_type;
    r->headers_out.content_type.len = ngx_strlen(asset->content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    /* the app changes with the module: browsers must revalidate */

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-cache");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Content-Type-Options");
    ngx_str_set(&h->value, "nosniff");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) asset->data;
    b->last = b->pos + asset->size;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static const ngx_http_parley_asset_t *
ngx_http_parley_app_find(ngx_http_request_t *r)
{
    size_t                          len;
    u_char                         *path;
    ngx_http_core_loc_conf_t       *clcf;
    const ngx_http_parley_asset_t  *a;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    path = r->uri.data;
    len = r->uri.len;

    /* strip the location prefix, keeping the "/" that starts the rest */

    if (!clcf->exact_match
#if (NGX_PCRE)
        && !clcf->regex
#endif
        && clcf->name.len > 0
        && len >= clcf->name.len
        && ngx_strncmp(path, clcf->name.data, clcf->name.len) == 0)
    {
        path += clcf->name.len;
        len -= clcf->name.len;

        if (clcf->name.data[clcf->name.len - 1] == '/') {
            path--;
            len++;
        }
    }

    if (len == 0 || (len == 1 && path[0] == '/')) {
        path = (u_char *) "/index.html";
        len = sizeof("/index.html") - 1;
    }

    for (a = ngx_http_parley_assets; a->path; a++) {
        if (ngx_strlen(a->path) == len
            && ngx_strncmp(a->path, path, len) == 0)
        {
            return a;
        }
    }

    return NULL;
}

//! The HTTP surface of hub-api.md: router, authentication, handlers, live events.
//! The OpenAPI description is built from the same route declarations (utoipa-axum).

use crate::clock;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::*;
use crate::store::{self, Caller, Tx};
use crate::workspace::{self, admin, chat_worker, chats, crm, employee, manager, replies};
use crate::{Hub, HubEvent};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use switchboard_core::{self as core, CrmRef, Settings};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard hub",
        description = "The workspace server desktops talk to. See hub-api.md."
    ),
    components(schemas(ErrorBody, Change, ChangeEvent, NotifyEvent))
)]
struct ApiDoc;

/// The hub as the HTTP edge uses it: closures and answers in [`ApiError`] (a refusal is an
/// answer; a storage failure a logged 500). Below the edge the hub speaks `StoreError`.
pub trait EdgeHub {
    fn read<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<T> + Send + 'static;
    fn write<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<T> + Send + 'static;
    fn write_notify<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<(T, Vec<(String, NotifyEvent)>)> + Send + 'static;
    fn write_access<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<T> + Send + 'static;
}

impl EdgeHub for Hub {
    fn read<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<T> + Send + 'static,
    {
        self.read_as(f)
    }
    fn write<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<T> + Send + 'static,
    {
        self.write_as(f)
    }
    fn write_notify<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<(T, Vec<(String, NotifyEvent)>)> + Send + 'static,
    {
        self.write_notify_as(f)
    }
    fn write_access<T, F>(&self, f: F) -> impl std::future::Future<Output = ApiResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Tx) -> ApiResult<T> + Send + 'static,
    {
        self.write_access_as(f)
    }
}

/// Every route, declared once, in groups that share a path: the router and the OpenAPI
/// description are both built from this list.
macro_rules! every_route {
    ($build:ident) => {
        $build!(
            (create_employee, list_employees),
            (patch_employee),
            (issue_token, list_tokens),
            (revoke_token),
            (me),
            (revoke_own_token),
            (create_channel, list_channels),
            (patch_channel),
            (get_settings, put_settings),
            (settings_audit),
            (list_quick_replies, create_quick_reply),
            (patch_quick_reply, delete_quick_reply),
            (put_company_name),
            (create_crm_entity),
            (search_crm),
            (
                get_crm_connection,
                put_crm_connection,
                delete_crm_connection
            ),
            (check_crm_connection),
            (put_crm_events),
            (get_crm_entity, patch_crm_entity),
            (crm_timeline),
            (provider_webhook),
            (bitrix24_events),
            (list_chats),
            (search_messages),
            (chat_messages),
            (message_media),
            (public_file),
            (public_file_named),
            (send_file),
            (mark_answered),
            (mark_unanswered),
            (transfer_candidates, transfer_chat),
            (list_transfers),
            (compose),
            (send_message),
            (retry_message),
            (retry_mirror),
            (counters),
            (sync),
            (events),
        )
    };
}

/// The routes with their OpenAPI description (utoipa-axum).
fn routes() -> OpenApiRouter<Hub> {
    macro_rules! documented {
        ($( ($($handler:ident),+) ),* $(,)?) => {
            OpenApiRouter::with_openapi(ApiDoc::openapi()) $( .routes(routes!($($handler),+)) )*
        };
    }
    every_route!(documented)
}

/// The same routes without their description, each at the path and methods its `utoipa::path`
/// declares: what a hub built without the `openapi` feature serves (the desktop's in-process
/// demo). The code that builds the description is then not linked: with Tauri's `dynamic-acl`
/// left out too, 0.54 MB of the desktop (docs/perf.md). A route that is not documented goes in
/// `router` beside `/openapi.json`, for both.
fn plain_routes() -> axum::Router<Hub> {
    use utoipa::Path as _;
    fn methods<H: axum::handler::Handler<T, Hub>, T: 'static>(
        methods: Vec<utoipa::openapi::path::HttpMethod>,
        handler: H,
    ) -> axum::routing::MethodRouter<Hub> {
        use utoipa_axum::PathItemExt as _;
        methods
            .iter()
            .fold(axum::routing::MethodRouter::new(), |router, method| {
                router.on(method.to_method_filter(), handler.clone())
            })
    }
    macro_rules! plain {
        ($( ($($handler:ident),+) ),* $(,)?) => {
            utoipa_axum::paste! {
                axum::Router::new() $($(
                    .route(&[<__path_ $handler>]::path(), methods([<__path_ $handler>]::methods(), $handler))
                )+)*
            }
        };
    }
    every_route!(plain)
}

/// The hub's router; with the `openapi` feature `/openapi.json` serves the description.
pub fn router(hub: Hub) -> axum::Router {
    #[cfg(feature = "openapi")]
    let router = {
        let (router, doc) = routes().split_for_parts();
        router.route(
            "/openapi.json",
            axum::routing::get(move || async move { Json(doc) }),
        )
    };
    #[cfg(not(feature = "openapi"))]
    let router = plain_routes();
    finish(router, hub)
}

/// The router a hub built without the `openapi` feature serves, whatever this build's features:
/// the tests hold it to the documented one.
#[doc(hidden)]
pub fn plain_router(hub: Hub) -> axum::Router {
    finish(plain_routes(), hub)
}

fn finish(router: axum::Router<Hub>, hub: Hub) -> axum::Router {
    router
        .layer(axum::middleware::map_response(error_shape))
        .with_state(hub)
}

/// Every error answer in the one shape `{"error": {"code", "message"}}`, also those the
/// framework makes itself (an unreadable path or query, an unknown route or method).
async fn error_shape(resp: axum::response::Response) -> axum::response::Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        t => t.to_owned(),
    };
    let error = if status.is_server_error() {
        // Logged in full; answered without details.
        ApiError {
            status,
            ..ApiError::internal(message)
        }
    } else {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid_request",
        };
        ApiError::new(status, code, message)
    };
    // The framework's headers stay (`Allow` on a 405), its body's do not.
    let mut answer = error.into_response();
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    for (name, value) in &parts.headers {
        answer.headers_mut().entry(name).or_insert(value.clone());
    }
    answer
}

/// The OpenAPI description of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// Every documented operation as `(method, path)`, the path as the description names it
/// (`/api/v1/chats/{id}/messages`): what the authorization matrix and the fuzzer must cover.
pub fn operations() -> Vec<(&'static str, String)> {
    let doc = openapi();
    let mut all = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (has, method) in [
            (item.get.is_some(), "GET"),
            (item.post.is_some(), "POST"),
            (item.put.is_some(), "PUT"),
            (item.patch.is_some(), "PATCH"),
            (item.delete.is_some(), "DELETE"),
        ] {
            if has {
                all.push((method, path.clone()));
            }
        }
    }
    all
}

/// The bearer token of a request, as sent.
pub struct Token(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110 §11.1).
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_owned())
            .filter(|t| !t.is_empty() && t.len() <= 512)
            .map(Token)
            .ok_or_else(ApiError::unauthorized)
    }
}

impl FromRequestParts<Hub> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Self::Rejection> {
        let Token(token) = Token::from_request_parts(parts, hub).await?;
        hub.read(move |c| Ok(store::caller_by_token(c, &token)?))
            .await?
            .ok_or_else(ApiError::unauthorized)
    }
}

/// A JSON body whose errors are 400s naming the problem, in our error shape.
pub struct Body<T>(pub T);

/// The largest JSON body an `/api/v1` route reads.
pub const API_BODY_LIMIT: usize = 1024 * 1024;
/// The largest webhook body (a provider delivery of many messages; a CRM event).
pub const WEBHOOK_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Reads a body of at most `limit` bytes: past it, 413 (nothing is read further).
async fn bounded(req: axum::extract::Request, limit: usize) -> ApiResult<axum::body::Bytes> {
    let too_large = || {
        tracing::warn!(limit, "request body too large refused");
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {limit} bytes"),
        )
    };
    // A declared length past the limit is refused before a byte of the body is read.
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                too_large()
            } else {
                ApiError::bad_field("body", &e.to_string())
            }
        })
}

/// A webhook's raw body, at most [`WEBHOOK_BODY_LIMIT`].
pub struct WebhookBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for WebhookBody {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        bounded(req, WEBHOOK_BODY_LIMIT).await.map(WebhookBody)
    }
}

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = bounded(req, API_BODY_LIMIT).await?;
        // serde_path_to_error names the field that failed ("role: unknown variant `boss` …").
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(Body).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::bad_field(&field, &e.into_inner().to_string())
        })
    }
}

// ---------- administration ----------

#[utoipa::path(post, path = "/api/v1/employees", request_body = NewEmployee,
    responses((status = 201, body = CreatedEmployee), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_employee(
    State(hub): State<Hub>,
    caller: Caller,
    Body(e): Body<NewEmployee>,
) -> ApiResult<impl IntoResponse> {
    manager(&caller, "create employees")?;
    let created = hub
        .write(move |c| Ok(admin::create_employee(c, &e, &clock::now())?))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/employees", responses((status = 200, body = Vec<EmployeeView>)))]
async fn list_employees(
    State(hub): State<Hub>,
    caller: Caller,
) -> ApiResult<Json<Vec<EmployeeView>>> {
    manager(&caller, "list employees")?;
    Ok(Json(hub.read(|c| Ok(store::employee_list(c)?)).await?))
}

#[utoipa::path(patch, path = "/api/v1/employees/{id}", request_body = EmployeePatch,
    responses((status = 200, body = EmployeeView), (status = 404, body = ErrorBody)))]
async fn patch_employee(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
    Body(p): Body<EmployeePatch>,
) -> ApiResult<Json<EmployeeView>> {
    let by = manager(&caller, "change employees")?;
    let narrows = admin::narrows_access(&p);
    let write = move |c: &Tx| Ok(admin::patch_employee(c, &by, &id, &p)?);
    let e = if narrows {
        hub.write_access(write).await?
    } else {
        hub.write(write).await?
    };
    Ok(Json(e))
}

/// Issues another token for an employee (administrator only): how a desktop signs in as them.
#[utoipa::path(post, path = "/api/v1/employees/{id}/tokens", responses((status = 201, body = IssuedToken), (status = 404, body = ErrorBody)))]
async fn issue_token(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    workspace::admin(&caller, "issue tokens")?;
    let token = hub
        .write(move |c| Ok(admin::issue_token(c, &id, &clock::now())?))
        .await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token })))
}

/// An employee's tokens (their signed-in desktops), without the secrets.
#[utoipa::path(get, path = "/api/v1/employees/{id}/tokens", responses((status = 200, body = Vec<TokenView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_tokens(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TokenView>>> {
    manager(&caller, "see sign-ins")?;
    Ok(Json(hub.read(move |c| Ok(admin::tokens(c, &id)?)).await?))
}

/// Revokes one token: that desktop is signed out at once (its live stream ends).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    manager(&caller, "revoke sign-ins")?;
    hub.write_access(move |c| Ok(admin::revoke_token(c, &id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs this desktop out: its own token stops working.
#[utoipa::path(delete, path = "/api/v1/me/token", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn revoke_own_token(
    State(hub): State<Hub>,
    caller: Caller,
    Token(token): Token,
) -> ApiResult<StatusCode> {
    employee(caller)?;
    hub.write_access(move |c| Ok(store::revoke_own_token(c, &token)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own profile.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = EmployeeView)))]
async fn me(caller: Caller) -> ApiResult<Json<EmployeeView>> {
    Ok(Json(store::employee_view(&employee(caller)?)))
}

#[utoipa::path(post, path = "/api/v1/channels", request_body = NewChannel, responses((status = 201, body = ChannelView)))]
async fn create_channel(
    State(hub): State<Hub>,
    caller: Caller,
    Body(ch): Body<NewChannel>,
) -> ApiResult<impl IntoResponse> {
    manager(&caller, "create channels")?;
    let view = hub
        .write(move |c| Ok(admin::create_channel(c, &ch)?))
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(get, path = "/api/v1/channels", responses((status = 200, body = Vec<ChannelView>)))]
async fn list_channels(
    State(hub): State<Hub>,
    _caller: Caller,
) -> ApiResult<Json<Vec<ChannelView>>> {
    let all = hub.read(|c| Ok(store::channels(c)?)).await?;
    Ok(Json(all.iter().map(store::channel_view).collect()))
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", request_body = ChannelPatch, responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
async fn patch_channel(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
    Body(p): Body<ChannelPatch>,
) -> ApiResult<Json<ChannelView>> {
    manager(&caller, "change channels")?;
    Ok(Json(
        hub.write(move |c| Ok(admin::patch_channel(c, &id, &p)?))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/settings", responses((status = 200, body = Settings)))]
async fn get_settings(State(hub): State<Hub>, _caller: Caller) -> ApiResult<Json<Settings>> {
    Ok(Json(hub.read(|c| Ok(store::settings(c)?)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings", request_body = SettingsPatch, responses((status = 200, body = Settings), (status = 403, body = ErrorBody)))]
async fn put_settings(
    State(hub): State<Hub>,
    caller: Caller,
    Body(p): Body<SettingsPatch>,
) -> ApiResult<Json<Settings>> {
    let by = manager(&caller, "change settings")?;
    Ok(Json(
        hub.write(move |c| Ok(admin::put_settings(c, &p, &by, &clock::now())?))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/settings/audit", responses((status = 200, body = Vec<AuditEntry>)))]
async fn settings_audit(
    State(hub): State<Hub>,
    caller: Caller,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    manager(&caller, "read the settings audit")?;
    Ok(Json(hub.read(|c| Ok(store::audit(c)?)).await?))
}

// ---------- quick replies ----------

/// The workspace's quick replies and the caller's own, and what `{company}` reads as.
#[utoipa::path(get, path = "/api/v1/quick-replies", responses((status = 200, body = QuickRepliesView)))]
async fn list_quick_replies(
    State(hub): State<Hub>,
    caller: Caller,
) -> ApiResult<Json<QuickRepliesView>> {
    Ok(Json(
        hub.read(move |c| Ok(replies::list(c, &caller)?)).await?,
    ))
}

/// A quick reply of the caller's own (`personal`), or the workspace's (supervisors, the
/// administrator).
#[utoipa::path(post, path = "/api/v1/quick-replies", request_body = NewQuickReply,
    responses((status = 201, body = QuickReplyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_quick_reply(
    State(hub): State<Hub>,
    caller: Caller,
    Body(new): Body<NewQuickReply>,
) -> ApiResult<impl IntoResponse> {
    let view = hub
        .write(move |c| Ok(replies::create(c, &caller, &new, &clock::now())?))
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Changes a quick reply: one's own, or the workspace's (supervisors, the administrator).
/// Another employee's own is 404.
#[utoipa::path(patch, path = "/api/v1/quick-replies/{id}", request_body = QuickReplyPatch,
    responses((status = 200, body = QuickReplyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn patch_quick_reply(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
    Body(p): Body<QuickReplyPatch>,
) -> ApiResult<Json<QuickReplyView>> {
    Ok(Json(
        hub.write(move |c| Ok(replies::patch(c, &caller, &id, &p, &clock::now())?))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/quick-replies/{id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_quick_reply(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    hub.write(move |c| Ok(replies::delete(c, &caller, &id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Names the company `{company}` reads as (supervisors, the administrator).
#[utoipa::path(put, path = "/api/v1/quick-replies/company", request_body = CompanyName,
    responses((status = 200, body = CompanyName), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_company_name(
    State(hub): State<Hub>,
    caller: Caller,
    Body(name): Body<CompanyName>,
) -> ApiResult<Json<CompanyName>> {
    manager(&caller, "name the company")?;
    Ok(Json(
        hub.write(move |c| Ok(replies::set_company(c, &name)?))
            .await?,
    ))
}

// ---------- built-in CRM ----------

#[utoipa::path(post, path = "/api/v1/crm/{kind}", request_body = NewCrmEntity,
    params(("kind" = String, Path, description = "leads, contacts or deals")),
    responses((status = 201, body = Created)))]
async fn create_crm_entity(
    State(hub): State<Hub>,
    caller: Caller,
    Path(kind): Path<String>,
    Body(e): Body<NewCrmEntity>,
) -> ApiResult<impl IntoResponse> {
    manager(&caller, "edit the CRM")?;
    let id = hub
        .write(move |c| Ok(crm::create_entity(c, &kind, &e)?))
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/crm/{kind}/{id}", responses((status = 200, body = CrmEntityView), (status = 404, body = ErrorBody)))]
async fn get_crm_entity(
    State(hub): State<Hub>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<CrmEntityView>> {
    let r = CrmRef {
        kind: crm::kind_of(&kind)?,
        id,
    };
    Ok(Json(
        hub.read(move |c| Ok(crm::entity(c, &caller, &r)?)).await?,
    ))
}

fn masked(url: &str) -> String {
    // Everything but the secret code: https://portal/rest/1/••••••/
    match url.trim_end_matches('/').rsplit_once('/') {
        Some((head, _code)) => format!("{head}/••••••/"),
        None => "••••••".into(),
    }
}

fn connection_view(
    hub: &Hub,
    c: Option<crate::store::bitrix_index::BitrixConnection>,
) -> CrmConnectionView {
    match c {
        None => CrmConnectionView {
            kind: switchboard_core::CrmKind::BuiltIn,
            portal: None,
            user: None,
            webhook_masked: None,
            events_url: None,
            events: false,
        },
        Some(b) => CrmConnectionView {
            kind: switchboard_core::CrmKind::Bitrix24,
            webhook_masked: Some(masked(&b.webhook_url)),
            portal: Some(b.portal),
            user: Some(b.user_name),
            events_url: Some(format!(
                "{}/webhooks/bitrix24/{}",
                hub.public_url(),
                b.events_secret
            )),
            events: b.event_token.is_some(),
        },
    }
}

/// The workspace's CRM (built-in, or Bitrix24 with its portal and a masked webhook).
#[utoipa::path(get, path = "/api/v1/crm/connection", responses((status = 200, body = CrmConnectionView)))]
async fn get_crm_connection(
    State(hub): State<Hub>,
    caller: Caller,
) -> ApiResult<Json<CrmConnectionView>> {
    manager(&caller, "see the CRM connection")?;
    let c = hub
        .read(|c| Ok(crate::store::bitrix_index::bitrix(c)?))
        .await?;
    Ok(Json(connection_view(&hub, c)))
}

/// Check connection: the portal and user behind a Bitrix24 webhook URL (nothing is saved).
#[utoipa::path(post, path = "/api/v1/crm/connection/check", request_body = CrmConnect, responses((status = 200, body = CrmConnectionView), (status = 400, body = ErrorBody)))]
async fn check_crm_connection(
    caller: Caller,
    Body(b): Body<CrmConnect>,
) -> ApiResult<Json<CrmConnectionView>> {
    manager(&caller, "connect the CRM")?;
    let (portal, user) = crm::check_webhook(&b.webhook_url).await?;
    Ok(Json(CrmConnectionView {
        kind: switchboard_core::CrmKind::Bitrix24,
        portal: Some(portal),
        user: Some(user),
        webhook_masked: Some(masked(&b.webhook_url)),
        events_url: None,
        events: false,
    }))
}

/// Connects Bitrix24 (checked first). The URL is stored by the hub only.
#[utoipa::path(put, path = "/api/v1/crm/connection", request_body = CrmConnect, responses((status = 200, body = CrmConnectionView), (status = 400, body = ErrorBody)))]
async fn put_crm_connection(
    State(hub): State<Hub>,
    caller: Caller,
    Body(b): Body<CrmConnect>,
) -> ApiResult<Json<CrmConnectionView>> {
    manager(&caller, "connect the CRM")?;
    let (portal, user_name) = crm::check_webhook(&b.webhook_url).await?;
    let conn = crate::store::bitrix_index::BitrixConnection {
        webhook_url: b.webhook_url.trim().to_owned(),
        portal,
        user_name,
        event_token: None,
        events_secret: String::new(),
    };
    let stored = conn.clone();
    let now = hub
        .write(move |c| {
            crate::store::bitrix_index::connect(c, &stored, &clock::now())?;
            Ok(crate::store::bitrix_index::bitrix(c)?)
        })
        .await?;
    tracing::info!(portal = %conn.portal, "Bitrix24 connected");
    hub.crm_wake().notify_one();
    Ok(Json(connection_view(&hub, now)))
}

/// Bitrix24's outgoing webhook: stores the application token the portal shows for it, so the
/// portal's CRM events (sent to `events_url`) are accepted. An empty token stops accepting them.
#[utoipa::path(put, path = "/api/v1/crm/connection/events", request_body = CrmEvents,
    responses((status = 200, body = CrmConnectionView), (status = 409, body = ErrorBody)))]
async fn put_crm_events(
    State(hub): State<Hub>,
    caller: Caller,
    Body(b): Body<CrmEvents>,
) -> ApiResult<Json<CrmConnectionView>> {
    manager(&caller, "connect the CRM")?;
    let token = b.application_token.trim().to_owned();
    let now = hub
        .write(move |c| Ok(crm::set_event_token(c, &token)?))
        .await?;
    Ok(Json(connection_view(&hub, Some(now))))
}

/// Back to the built-in CRM.
#[utoipa::path(delete, path = "/api/v1/crm/connection", responses((status = 200, body = CrmConnectionView)))]
async fn delete_crm_connection(
    State(hub): State<Hub>,
    caller: Caller,
) -> ApiResult<Json<CrmConnectionView>> {
    manager(&caller, "disconnect the CRM")?;
    hub.write(|c| Ok(crate::store::bitrix_index::disconnect(c)?))
        .await?;
    Ok(Json(connection_view(&hub, None)))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct CrmSearch {
    /// Part of a title or of a phone number (digits); empty lists the first entities.
    q: Option<String>,
}

/// Finds CRM entities to write to: by title or phone, each phone read under setting 2.
#[utoipa::path(get, path = "/api/v1/crm", params(CrmSearch), responses((status = 200, body = Vec<CrmEntityView>)))]
async fn search_crm(
    State(hub): State<Hub>,
    caller: Caller,
    Query(q): Query<CrmSearch>,
) -> ApiResult<Json<Vec<CrmEntityView>>> {
    let me = Caller::Employee(chat_worker(caller)?);
    Ok(Json(
        hub.read(move |c| Ok(crm::search(c, &me, q.q.as_deref().unwrap_or(""))?))
            .await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/crm/{kind}/{id}", request_body = CrmEntityPatch, responses((status = 200, body = CrmEntityView), (status = 404, body = ErrorBody)))]
async fn patch_crm_entity(
    State(hub): State<Hub>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
    Body(p): Body<CrmEntityPatch>,
) -> ApiResult<Json<CrmEntityView>> {
    manager(&caller, "edit the CRM")?;
    Ok(Json(
        hub.write(move |c| Ok(crm::patch_entity(c, &kind, &id, &p)?))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/crm/{kind}/{id}/timeline", responses((status = 200, body = Vec<TimelineEntry>)))]
async fn crm_timeline(
    State(hub): State<Hub>,
    caller: Caller,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let r = CrmRef {
        kind: crm::kind_of(&kind)?,
        id,
    };
    Ok(Json(
        hub.read(move |c| Ok(crm::timeline(c, &caller, &r)?))
            .await?,
    ))
}

// ---------- provider webhooks ----------

/// The secret in a webhook's path, checked before a byte of its body is read; a wrong one is
/// answered like any unknown path (the secret is the only credential there).
async fn path_secret(parts: &mut Parts, hub: &Hub) -> ApiResult<String> {
    Path::<String>::from_request_parts(parts, hub)
        .await
        .map(|Path(s)| s)
        .map_err(|_| ApiError::not_found("webhook"))
}

/// The provider's webhook: its path carries the ingress secret.
pub struct ProviderIngress;

impl FromRequestParts<Hub> for ProviderIngress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Self::Rejection> {
        let secret = path_secret(parts, hub).await?;
        if constant_time_eq(secret.as_bytes(), hub.ingress_secret().as_bytes()) {
            Ok(ProviderIngress)
        } else {
            Err(ApiError::not_found("webhook"))
        }
    }
}

/// Bitrix24's outgoing webhook: its path carries the events secret made when the portal was
/// connected (not the provider's).
pub struct Bitrix24Ingress;

impl FromRequestParts<Hub> for Bitrix24Ingress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Self::Rejection> {
        let secret = path_secret(parts, hub).await?;
        if hub
            .read(move |c| {
                Ok(crate::store::bitrix_index::events_secret_matches(
                    c, &secret,
                )?)
            })
            .await?
        {
            Ok(Bitrix24Ingress)
        } else {
            Err(ApiError::not_found("webhook"))
        }
    }
}

/// The provider's webhook: test probe, messages, statuses. Validated whole, stored in one transaction.
#[utoipa::path(post, path = "/webhooks/provider/{secret}", request_body = serde_json::Value,
    params(("secret" = String, Path, description = "the ingress secret")),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn provider_webhook(
    State(hub): State<Hub>,
    _secret: ProviderIngress,
    WebhookBody(body): WebhookBody,
) -> ApiResult<impl IntoResponse> {
    let delivery = crate::webhook::parse(&body).inspect_err(|e| {
        tracing::warn!(problem = %e.message, bytes = body.len(), "malformed provider webhook refused");
    })?;
    if delivery.test
        && delivery.messages.is_empty()
        && delivery.statuses.is_empty()
        && delivery.channel_states.is_empty()
    {
        return Ok(Json(serde_json::json!({"ok": true})));
    }
    hub.write_notify(move |c| {
            let now = clock::now();
            let (mut notify, mut reads) = (Vec::new(), store::DeliveryReads::default());
            for m in &delivery.messages {
                if let Some(done) = store::ingest_with(c, &mut reads, m, &now)? {
                    notify.extend(done.notify);
                }
            }
            for s in &delivery.statuses {
                if !store::apply_status(c, &s.provider_message_id, s.status, s.error.as_deref())? {
                    tracing::info!(message = %s.provider_message_id, "status for an unknown message ignored");
                }
            }
            for (channel, state) in &delivery.channel_states {
                store::set_channel_state(c, channel, state)?;
            }
            Ok(((), notify))
        })
        .await?;
    // A new chat's number may be one the CRM index does not know yet.
    hub.crm_wake().notify_one();
    Ok(Json(serde_json::json!({"ok": true})))
}

/// Bitrix24's outgoing webhook (contract §10): a form-encoded CRM event naming an entity that
/// changed, checked against the stored application token. The portal never resends, so the
/// answer is quick and the fetch happens in the CRM sync (the poll catches anything missed).
#[utoipa::path(post, path = "/webhooks/bitrix24/{secret}", request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    params(("secret" = String, Path, description = "the events secret (shown in the CRM connection's events_url)")),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn bitrix24_events(
    State(hub): State<Hub>,
    _secret: Bitrix24Ingress,
    WebhookBody(body): WebhookBody,
) -> ApiResult<impl IntoResponse> {
    let form: serde_json::Value = serde_qs::Config::new()
        .max_depth(4)
        .use_form_encoding(true)
        .deserialize_bytes(&body)
        .map_err(|e| {
            tracing::warn!(problem = %e, bytes = body.len(), "malformed Bitrix24 event refused");
            ApiError::bad_field("body", "not a Bitrix24 event (form-encoded)")
        })?;
    let field = |ptr: &str| {
        form.pointer(ptr)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (event, id, token) = (
        field("/event"),
        field("/data/FIELDS/ID"),
        field("/auth/application_token"),
    );
    if event.is_empty() {
        tracing::warn!(bytes = body.len(), "Bitrix24 event without `event` refused");
        return Err(ApiError::bad_field("event", "missing"));
    }
    let what = event.clone();
    let verdict = hub
        .write(move |c| {
            Ok(crate::store::bitrix_index::record_event(
                c, &what, &id, &token,
            )?)
        })
        .await?;
    use crate::store::bitrix_index::EventVerdict;
    match verdict {
        EventVerdict::Recorded => {
            hub.crm_wake().notify_one();
            Ok(Json(serde_json::json!({"ok": true})))
        }
        EventVerdict::Ignored => Ok(Json(serde_json::json!({"ok": true}))),
        EventVerdict::NotConfigured => {
            tracing::warn!(%event, "Bitrix24 event refused: no application token is stored");
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "events_not_configured",
                "store the outgoing webhook's application token first",
            ))
        }
        EventVerdict::BadToken => {
            tracing::warn!(%event, "Bitrix24 event refused: wrong application token");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_application_token",
                "the application token does not match",
            ))
        }
    }
}

use crate::store::constant_time_eq;

// ---------- what an employee sees ----------

#[utoipa::path(get, path = "/api/v1/chats", responses((status = 200, body = Vec<ChatView>)))]
async fn list_chats(State(hub): State<Hub>, caller: Caller) -> ApiResult<Json<Vec<ChatView>>> {
    let me = employee(caller)?;
    Ok(Json(
        hub.read(move |c| Ok(store::visible_chats(c, &me)?)).await?,
    ))
}

/// Searches running at once (see `search_messages`).
static SEARCHES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

#[derive(Deserialize, utoipa::IntoParams)]
struct MessageSearch {
    /// What a person typed: every word (2 letters or more) must begin a word of the message.
    q: String,
    /// At most this many (default 50, at most 200).
    limit: Option<u32>,
    /// Only this channel's chats.
    channel: Option<String>,
    /// Only the chats the caller is responsible for.
    mine: Option<bool>,
    /// Only messages at or after this time (RFC 3339).
    since: Option<String>,
    /// Only messages older than this one (its id): the page after a previous answer's oldest.
    before: Option<String>,
}

/// Messages of every chat the caller may see that match `q`, newest first: the history a
/// desktop does not hold (its first sync brought each chat's recent messages). Whatever is
/// typed is only ever searched for, never read as the index's syntax.
#[utoipa::path(get, path = "/api/v1/search", params(MessageSearch),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn search_messages(
    State(hub): State<Hub>,
    caller: Caller,
    Query(q): Query<MessageSearch>,
) -> ApiResult<Json<SearchResults>> {
    let me = chat_worker(caller)?;
    let query: String = q.q.chars().take(200).collect();
    let time = |field: &str, t: Option<&str>| -> ApiResult<Option<String>> {
        t.map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| store::format_time(t.with_timezone(&chrono::Utc)))
                .map_err(|_| ApiError::bad_field(field, "must be an RFC 3339 time"))
        })
        .transpose()
    };
    let within = store::search::Within {
        since: time("since", q.since.as_deref())?,
        before: q.before,
        channel: q.channel,
        mine: q.mine.unwrap_or(false),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    // At most two searches at once: a word with very many matches takes a reader for a while,
    // and the readers also check every request's token.
    let _turn = SEARCHES
        .acquire()
        .await
        .map_err(|_| ApiError::internal("search closed"))?;
    Ok(Json(
        hub.read(move |c| {
            Ok(store::search::search_messages(
                c,
                &me,
                &query,
                &within,
                limit,
                store::search::EXAMINED,
            )?)
        })
        .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct Page {
    /// A message id: return the messages before it.
    before: Option<String>,
    /// At most this many (default 50, at most 500).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/chats/{id}/messages", params(Page), responses((status = 200, body = Vec<MessageView>), (status = 404, body = ErrorBody)))]
async fn chat_messages(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<MessageView>>> {
    let me = employee(caller)?;
    let limit = page.limit.unwrap_or(50);
    Ok(Json(
        hub.read(move |c| Ok(chats::messages(c, &me, &id, page.before.as_deref(), limit)?))
            .await?,
    ))
}

/// A client's file, as the hub fetched it from the provider: to whoever may see its chat (404
/// for anyone else, and while it is not kept: see the message's `media.state`). Its type is
/// the one read from its bytes; only media types are offered for showing in place
/// (`core::inline_media_type`), anything else as a download.
#[utoipa::path(get, path = "/api/v1/messages/{id}/media", responses((status = 200, content_type = "application/octet-stream", description = "the file's bytes"), (status = 404, body = ErrorBody)))]
async fn message_media(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let me = employee(caller)?;
    let message = id.clone();
    let (name, mime) = hub
        .read(move |c| Ok(chats::media(c, &me, &message)?))
        .await?;
    let mime = mime.unwrap_or_default();
    let inline = switchboard_core::inline_media_type(&mime);
    let shown = if inline {
        mime.as_str()
    } else {
        "application/octet-stream"
    };
    kept_file(
        &hub,
        &id,
        name.as_deref(),
        shown,
        inline,
        "private, max-age=31536000, immutable",
    )
    .await
}

/// A kept file's bytes, streamed (never whole in memory), with headers that keep a browser
/// from reading it as anything but `mime`.
async fn kept_file(
    hub: &Hub,
    id: &str,
    name: Option<&str>,
    mime: &str,
    inline: bool,
    cache: &str,
) -> ApiResult<axum::response::Response> {
    use axum::http::header;
    let path = hub
        .media_dir()
        .and_then(|dir| crate::media::path(dir, id))
        .ok_or_else(|| ApiError::not_found("media"))?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::warn!(message = %id, error = %e, "a kept file is missing");
        ApiError::not_found("media")
    })?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encoding::utf8_percent_encode(
            name.unwrap_or("file"),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    let mut answer = axum::response::Response::new(axum::body::Body::from_stream(
        tokio_util::io::ReaderStream::new(file),
    ));
    let headers = answer.headers_mut();
    for (k, v) in [
        (header::CONTENT_TYPE, mime),
        (header::CONTENT_DISPOSITION, disposition.as_str()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, cache),
        // Opened in a browser (a CRM link), it runs nothing whatever it is.
        (header::CONTENT_SECURITY_POLICY, "sandbox"),
    ] {
        if let Ok(v) = axum::http::HeaderValue::from_str(v) {
            headers.insert(k, v);
        }
    }
    if let Some(len) = len {
        headers.insert(header::CONTENT_LENGTH, axum::http::HeaderValue::from(len));
    }
    Ok(answer)
}

/// A file kept by the hub, for whoever holds a link to it: the provider downloading a file we
/// send (it cannot send a token), people following a CRM timeline's link. The random token
/// in the path is the credential; it expires. Never a redirect.
#[utoipa::path(get, path = "/public/files/{token}", responses((status = 200, description = "the file's bytes"), (status = 404, body = ErrorBody)))]
async fn public_file(
    State(hub): State<Hub>,
    Path(token): Path<String>,
) -> ApiResult<axum::response::Response> {
    public_file_named(State(hub), Path((token, String::new()))).await
}

/// [`public_file`] with the file's name at the end of the address (as the hub writes its
/// links: whoever names a download from its URL gets the file's name); the name is not checked.
#[utoipa::path(get, path = "/public/files/{token}/{name}", responses((status = 200, description = "the file's bytes"), (status = 404, body = ErrorBody)))]
async fn public_file_named(
    State(hub): State<Hub>,
    Path((token, _name)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    // Tokens are 64 hex digits; anything else is not looked up.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("file"));
    }
    let found = hub
        .read(move |c| {
            Ok(store::media_queue::public_file(
                c,
                &token,
                crate::clock::now_ms(),
            )?)
        })
        .await?;
    let (id, kept) = found.ok_or_else(|| ApiError::not_found("file"))?;
    let mime = kept
        .mime
        .unwrap_or_else(|| "application/octet-stream".into());
    kept_file(
        &hub,
        &id,
        kept.name.as_deref(),
        &mime,
        false,
        "private, no-store",
    )
    .await
}

/// Sends a file to a chat: the body is the file's bytes. The hub reads its type from the
/// bytes, checks it and its size against the chat's messenger, keeps it, and queues it for
/// the provider (which downloads it from a short-lived public link). The same
/// `Idempotency-Key` twice sends once.
#[utoipa::path(post, path = "/api/v1/chats/{id}/files",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file's bytes"),
    params(
        ("id" = String, Path, description = "the chat"),
        ("Idempotency-Key" = String, Header, description = "the message's key: a repeat sends once"),
        ("X-File-Name" = String, Header, description = "the file's name, percent-encoded UTF-8"),
    ),
    responses((status = 202, body = SendAccepted), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn send_file(
    State(hub): State<Hub>,
    caller: Result<Caller, ApiError>,
    Path(chat): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult<impl IntoResponse> {
    let limit = switchboard_core::SEND_MAX_BYTES;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let checked = async {
        let me = employee(caller?)?;
        let key = header("idempotency-key")
            .filter(|k| k.len() <= 200)
            .ok_or_else(|| {
                ApiError::bad_field("Idempotency-Key", "required (at most 200 characters)")
            })?
            .to_owned();
        let name = header("x-file-name")
            .map(|n| {
                percent_encoding::percent_decode_str(n)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .and_then(|n| switchboard_core::clean_file_name(&n))
            .ok_or_else(|| {
                ApiError::bad_field("X-File-Name", "required: the file's name, percent-encoded")
            })?;
        let (who, at, k) = (me.clone(), chat.clone(), key.clone());
        let target = hub
            .read(move |c| Ok(chats::file_target(c, &who, &at, &k)?))
            .await?;
        Ok::<_, ApiError>((me, key, name, target))
    }
    .await;
    // An answer before the body is read would reach a sender still writing it as a broken
    // connection (and it would try again for ever): a body within the limit is read first.
    let (me, key, name, transport) = match checked {
        Ok((me, key, name, chats::FileTarget::Chat(transport))) => (me, key, name, transport),
        Ok((_, _, _, chats::FileTarget::Sent(accepted))) => {
            crate::media::drain(body, limit, declared).await;
            return Ok((StatusCode::ACCEPTED, Json(accepted)));
        }
        // No token (or a dead one): answered at once — whoever it is, the hub reads nothing of
        // theirs (a desktop learns of an ended sign-in from its events stream too).
        Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(e),
        Err(e) => {
            crate::media::drain(body, limit, declared).await;
            return Err(e);
        }
    };
    let too_big = |size: u64| -> ApiError {
        workspace::WorkspaceError::from(workspace::Refusal::File(
            switchboard_core::FileRefusal::TooBig {
                size,
                limit,
                transport: transport.as_str(),
            },
        ))
        .into()
    };
    if let Some(size) = declared.filter(|n| *n > limit) {
        return Err(too_big(size));
    }
    let dir = hub
        .media_dir()
        .ok_or_else(|| ApiError::internal("no media directory"))?
        .to_owned();
    let upload = crate::media::receive(&dir, body, limit)
        .await
        .map_err(|e| match e {
            crate::media::Received::TooBig(size) => too_big(size),
            crate::media::Received::Broken(why) => ApiError::bad_field("body", &why),
            crate::media::Received::Io(e) => ApiError::internal(e),
        })?;
    let declared_type = header("content-type").unwrap_or("").to_owned();
    let mime = switchboard_core::file_type(upload.head(), &declared_type);
    let kind = switchboard_core::sendable_file(transport, &mime, upload.size()).map_err(|r| {
        ApiError::from(workspace::WorkspaceError::from(workspace::Refusal::File(r)))
    })?;
    let file = store::NewFile {
        name,
        mime,
        size: upload.size(),
        kind,
    };
    let accepted = hub
        .write(move |c| {
            let (accepted, new) = chats::send_file(c, &me, &chat, &key, &file, &clock::now())?;
            if new {
                // In place before the message commits: a message never names a missing file.
                upload
                    .keep(&dir.join(&accepted.message_id))
                    .map_err(ApiError::internal)?;
            }
            Ok(accepted)
        })
        .await?;
    hub.outbox_wake().notify_one();
    hub.crm_wake().notify_one();
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Marks the chat answered ("no reply needed"): its count goes to 0.
#[utoipa::path(post, path = "/api/v1/chats/{id}/answered", responses((status = 200, body = ChatView), (status = 404, body = ErrorBody)))]
async fn mark_answered(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChatView>> {
    mark(hub, caller, id, chats::mark_answered).await
}

/// An employee marks a chat they may see (answered, or as unanswered): its view after.
async fn mark(
    hub: Hub,
    caller: Caller,
    id: String,
    how: fn(&Tx, &core::Employee, &str, &str) -> workspace::WsResult<ChatView>,
) -> ApiResult<Json<ChatView>> {
    let me = employee(caller)?;
    Ok(Json(
        hub.write(move |c| Ok(how(c, &me, &id, &clock::now())?))
            .await?,
    ))
}

/// Hands the chat to employee `to` (supervisors; the responsible seller when the workspace
/// allows): the responsible of its CRM entities changes — in the built-in CRM here, in
/// Bitrix24 through `crm.*.update` first (`ASSIGNED_BY_ID`; if the portal refuses, nothing
/// changes) — the chat moves between desktops, a line in it says who handed it to whom, and
/// `to` is notified. Recorded for supervisors (`GET /api/v1/transfers`).
#[utoipa::path(post, path = "/api/v1/chats/{id}/transfer", request_body = TransferChat,
    responses((status = 200, body = TransferView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn transfer_chat(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
    Body(t): Body<TransferChat>,
) -> ApiResult<Json<TransferView>> {
    use workspace::transfer;
    let me = chat_worker(caller)?;
    let plan = {
        let (me, id, to) = (me.clone(), id.clone(), t.to.clone());
        hub.read(move |c| Ok(transfer::plan(c, &me, &id, &to)?))
            .await?
    };
    let view = match plan.bitrix.clone() {
        // The built-in CRM: checked again and changed in one transaction.
        None => {
            hub.write_notify(move |c| {
                let plan = transfer::plan(c, &me, &id, &t.to)?;
                let entities = plan.entities.clone();
                Ok(transfer::apply(c, &me, &plan, &entities, &clock::now())?)
            })
            .await?
        }
        // Bitrix24: the portal first (it is the CRM of record). One hand-over at a time, so two
        // cannot interleave there and here.
        Some(_) => {
            let _one = BITRIX_HAND_OVER.lock().await;
            // Checked again now that it is this one's turn (the portal and `to`'s user there
            // as they are now).
            let plan = {
                let (me, id, to) = (me.clone(), id.clone(), t.to.clone());
                hub.read(move |c| Ok(transfer::plan(c, &me, &id, &to)?))
                    .await?
            };
            let Some((url, user)) = plan.bitrix.clone() else {
                return Err(
                    workspace::WorkspaceError::from(workspace::Refusal::HandOverDiverged).into(),
                );
            };
            let unreachable = |why: String| {
                ApiError::from(workspace::WorkspaceError::from(
                    workspace::Refusal::CrmUnreachable(why),
                ))
            };
            let portal = crate::bitrix::Bitrix24::new(
                &url,
                Duration::from_secs(15),
                crate::bitrix::Rate::STANDARD,
            )
            .map_err(|e| unreachable(e.to_string()))?;
            let assign = |r: &CrmRef, user: &str| {
                let method = format!("crm.{}.update", r.kind.as_str());
                let params = serde_json::json!({"id": r.id, "fields": {"ASSIGNED_BY_ID": user}});
                let portal = &portal;
                async move { portal.call(&method, &params).await }
            };
            // What the portal took is put back when the hand-over does not happen after all
            // (best effort; its events tell the hub what it ends up with). An entity that had
            // nobody is left as it is now, and said so in the log.
            let put_back = |done: usize| {
                let (entities, previous) = (&plan.entities, &plan.previous);
                let assign = &assign;
                async move {
                    for (r, before) in entities[..done].iter().zip(previous) {
                        let Some(before) = before.as_deref() else {
                            tracing::warn!(entity = %r, "had no responsible before; left with the new one");
                            continue;
                        };
                        if let Err(e) = assign(r, before).await {
                            tracing::warn!(entity = %r, error = %e, "could not put the responsible back");
                        }
                    }
                }
            };
            for (k, r) in plan.entities.iter().enumerate() {
                if let Err(e) = assign(r, &user).await {
                    tracing::warn!(chat = %id, entity = %r, error = %e, "Bitrix24 did not take the hand-over");
                    put_back(k).await;
                    return Err(unreachable(format!("{}: {r}: {e}", portal.portal())));
                }
            }
            let entities = plan.entities.clone();
            let inner = plan.clone();
            let written = hub
                .write_notify(move |c| {
                    // Whoever may no longer hand it over, or a chat that moved meanwhile, is refused
                    // here; the portal's change then reaches the hub through its events.
                    let now = match transfer::plan(c, &me, &id, &t.to) {
                        Ok(now) => now,
                        // The portal's own events moved it already: the hand-over is done; it is
                        // recorded, said in the chat and told as planned.
                        Err(workspace::WorkspaceError::Refused(
                            workspace::Refusal::AlreadyResponsible(_),
                        )) => inner.clone(),
                        Err(e) => return Err(e.into()),
                    };
                    if now.from != inner.from || now.to.id != inner.to.id {
                        return Err(workspace::WorkspaceError::from(
                            workspace::Refusal::HandOverDiverged,
                        )
                        .into());
                    }
                    Ok(transfer::apply(c, &me, &now, &entities, &clock::now())?)
                })
                .await;
            if written.is_err() {
                put_back(plan.entities.len()).await;
            }
            written?
        }
    };
    // A chat with no CRM entity is now its new responsible's lead to make (Bitrix24).
    hub.crm_wake().notify_one();
    Ok(Json(view))
}

/// Hand-overs in a Bitrix24 workspace, one at a time (the portal is changed before the hub).
static BITRIX_HAND_OVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Whom the caller may hand the chat to (refused as the hand-over itself is).
#[utoipa::path(get, path = "/api/v1/chats/{id}/transfer",
    responses((status = 200, body = Vec<TransferCandidate>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn transfer_candidates(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TransferCandidate>>> {
    let me = chat_worker(caller)?;
    Ok(Json(
        hub.read(move |c| Ok(workspace::transfer::candidates(c, &me, &id)?))
            .await?,
    ))
}

/// The latest hand-overs of chats, newest first (supervisors, the administrator).
#[utoipa::path(get, path = "/api/v1/transfers", responses((status = 200, body = Vec<TransferView>), (status = 403, body = ErrorBody)))]
async fn list_transfers(
    State(hub): State<Hub>,
    caller: Caller,
) -> ApiResult<Json<Vec<TransferView>>> {
    manager(&caller, "read the hand-overs")?;
    Ok(Json(
        hub.read(|c| Ok(workspace::transfer::transfers(c, 500)?))
            .await?,
    ))
}

/// Marks the chat as unanswered (answered too early): a reply is owed again — its badge, the
/// notification rule and the escalation timer count from now.
#[utoipa::path(post, path = "/api/v1/chats/{id}/unanswered", responses((status = 200, body = ChatView), (status = 404, body = ErrorBody)))]
async fn mark_unanswered(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ChatView>> {
    mark(hub, caller, id, chats::mark_unanswered).await
}

#[derive(Deserialize, utoipa::IntoParams)]
struct ComposeQuery {
    /// A number as typed or pasted.
    phone: Option<String>,
    /// `<kind>:<id>` of a CRM entity whose phone to write to.
    crm: Option<String>,
}

/// Writing first: the preselected channel (setting 4) and the number read under setting 2.
#[utoipa::path(get, path = "/api/v1/compose", params(ComposeQuery), responses((status = 200, body = ComposeView), (status = 400, body = ErrorBody)))]
async fn compose(
    State(hub): State<Hub>,
    caller: Caller,
    Query(q): Query<ComposeQuery>,
) -> ApiResult<Json<ComposeView>> {
    let me = chat_worker(caller)?;
    Ok(Json(
        hub.read(move |c| {
            Ok(chats::compose(
                c,
                &me,
                q.phone.as_deref(),
                q.crm.as_deref(),
            )?)
        })
        .await?,
    ))
}

/// Sends a message: a reply in a chat (that chat's channel), or a first message on a chosen channel.
#[utoipa::path(post, path = "/api/v1/messages", request_body = SendMessage, responses((status = 202, body = SendAccepted), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn send_message(
    State(hub): State<Hub>,
    caller: Caller,
    Body(m): Body<SendMessage>,
) -> ApiResult<impl IntoResponse> {
    let me = employee(caller)?;
    let accepted = hub
        .write(move |c| Ok(chats::send(c, &me, &m, &clock::now())?))
        .await?;
    hub.outbox_wake().notify_one();
    hub.crm_wake().notify_one();
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Puts a `failed` message back on the outbox, with the same idempotency key.
#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", responses((status = 200, body = MessageView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_message(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageView>> {
    let view = retry(&hub, caller, id, chats::Retry::Send).await?;
    hub.outbox_wake().notify_one();
    Ok(Json(view))
}

/// Re-queues a message's failed timeline entries (setting 1).
#[utoipa::path(post, path = "/api/v1/messages/{id}/mirror/retry", responses((status = 200, body = MessageView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_mirror(
    State(hub): State<Hub>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageView>> {
    Ok(Json(retry(&hub, caller, id, chats::Retry::Mirror).await?))
}

async fn retry(
    hub: &Hub,
    caller: Caller,
    id: String,
    what: chats::Retry,
) -> ApiResult<MessageView> {
    let me = employee(caller)?;
    hub.write(move |c| Ok(chats::retry(c, &me, &id, what, &clock::now())?))
        .await
}

/// The tray's figures: how many visible chats carry a red and a grey badge.
#[utoipa::path(get, path = "/api/v1/me/counters", responses((status = 200, body = switchboard_core::Counters)))]
async fn counters(State(hub): State<Hub>, caller: Caller) -> ApiResult<Json<core::Counters>> {
    let me = employee(caller)?;
    let chats = hub.read(move |c| Ok(store::visible_chats(c, &me)?)).await?;
    Ok(Json(core::Counters::of(
        chats.iter().map(|c| &c.unanswered),
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct SyncQuery {
    /// The cursor of the previous answer; 0 for everything.
    cursor: Option<i64>,
    /// The next page of a snapshot: the previous answer's `page`.
    page: Option<String>,
    /// Kinds of change beyond the first version's that the desktop reads, comma-separated:
    /// `quick_replies`. A desktop that does not name one is not sent it (it could not read
    /// the answer).
    with: Option<String>,
}

/// What changed for the caller after `cursor`. A snapshot (a first sync, cursor 0) comes in
/// pages, waiting chats first, then by newest activity: the first carries 100 chats, each next
/// one (`page`) 2 000, each chat with its last message; the 200 first chats carry their recent
/// messages and the next 2 000 waiting chats their unanswered ones; the rest of a chat's
/// history is `GET /api/v1/chats/{id}/messages`.
#[utoipa::path(get, path = "/api/v1/sync", params(SyncQuery), responses((status = 200, body = SyncResponse)))]
async fn sync(
    State(hub): State<Hub>,
    caller: Caller,
    Query(q): Query<SyncQuery>,
) -> ApiResult<Json<store::SyncAnswer>> {
    let me = employee(caller)?;
    let page = match q.page.as_deref() {
        None => None,
        Some(token) => Some(store::SnapshotPage::parse(token).ok_or_else(|| {
            ApiError::bad_field(
                "page",
                "is not a page this hub gave; sync again from the cursor",
            )
        })?),
    };
    let cache = hub.log_cache();
    let replies = q
        .with
        .as_deref()
        .is_some_and(|w| w.split(',').any(|k| k.trim() == "quick_replies"));
    let mut answer = hub
        .read(move |c| {
            Ok(store::sync_shared(
                c,
                &cache,
                &me.id,
                q.cursor.unwrap_or(0),
                page.as_ref(),
                store::SnapshotDepth::DEFAULT,
            )?)
        })
        .await?;
    if !replies {
        answer.drop_quick_replies();
    }
    Ok(Json(answer))
}

/// Server-Sent Events: `change` (there is more to sync), `notify` (notify this employee now) and
/// `resync` (events were dropped for this stream: sync; what was missed is not notified late).
/// The stream ends when its token is revoked or its employee deactivated.
#[utoipa::path(get, path = "/api/v1/events", responses((status = 200, content_type = "text/event-stream", description = "change, notify and resync events")))]
async fn events(
    State(hub): State<Hub>,
    caller: Caller,
    Token(token): Token,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let me = employee(caller)?;
    // Subscribed first, then the token checked again: a revocation published in between is
    // either seen here or heard by the stream.
    let rx = hub.subscribe();
    let again = token.clone();
    match hub
        .read(move |c| Ok(store::caller_by_token(c, &again)?))
        .await?
    {
        Some(Caller::Employee(e)) if e.id == me.id => {}
        _ => return Err(ApiError::unauthorized()),
    }
    let closed = hub.closed();
    let cursor = hub.read(|c| Ok(store::last_seq(c)?)).await?;
    // First a `change` with the current cursor, so a (re)connected client syncs at once.
    let first = futures_util::stream::once(async move { Ok(change_event(cursor)) });
    let stream = Listener {
        rx,
        me: me.id,
        token,
        hub,
        pending: std::collections::VecDeque::new(),
        said: None,
        due: None,
    };
    let live = futures_util::stream::unfold(stream, |mut s| async move {
        s.next().await.map(|said| (Ok(said.event()), s))
    });
    Ok(Sse::new(first.chain(live).take_until(closed))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One employee's live stream over the hub's shared event ring.
struct Listener {
    rx: tokio::sync::broadcast::Receiver<HubEvent>,
    me: String,
    token: String,
    hub: Hub,
    /// This employee's notifications of one write, not yet sent.
    pending: std::collections::VecDeque<NotifyEvent>,
    /// When this stream last said `change` (or `resync`).
    said: Option<tokio::time::Instant>,
    /// The newest cursor of writes since, not yet said (the pace holds it back).
    due: Option<i64>,
}

/// How often a live stream says `change` at most. The first write after a quiet spell is said
/// at once; during a burst (a webhook delivery every few milliseconds) a desktop hears of it
/// once per pace and syncs everything since in one answer, instead of once per write.
/// Notifications are never held back.
pub const CHANGE_PACE: Duration = Duration::from_millis(100);

/// What a live stream says next.
#[derive(Debug)]
enum Said {
    Change(i64),
    Notify(NotifyEvent),
    Resync { cursor: i64, missed: u64 },
}

impl Said {
    fn event(self) -> Event {
        match self {
            Said::Change(cursor) => change_event(cursor),
            Said::Notify(n) => Event::default()
                .event("notify")
                .data(serde_json::to_string(&n).unwrap_or_default()),
            Said::Resync { cursor, missed } => Event::default()
                .event("resync")
                .data(serde_json::json!({ "cursor": cursor, "missed": missed }).to_string()),
        }
    }
}

impl Listener {
    /// What to say next to this employee; `None` ends the stream.
    async fn next(&mut self) -> Option<Said> {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            if let Some(n) = self.pending.pop_front() {
                return Some(Said::Notify(n));
            }
            let next_say = self.said.map(|t| t + CHANGE_PACE);
            let now = tokio::time::Instant::now();
            if let Some(cursor) = self.due.filter(|_| next_say.is_none_or(|t| t <= now)) {
                self.due = None;
                self.said = Some(now);
                return Some(Said::Change(cursor));
            }
            let received = match (self.due, next_say) {
                (Some(_), Some(at)) => tokio::select! {
                    r = self.rx.recv() => r,
                    () = tokio::time::sleep_until(at) => continue,
                },
                _ => self.rx.recv().await,
            };
            match received {
                Ok(HubEvent::Change(cursor)) => self.due = Some(cursor),
                Ok(HubEvent::Notify(all)) => {
                    self.pending.extend(
                        all.iter()
                            .filter(|(to, _)| *to == self.me)
                            .map(|(_, n)| n.clone()),
                    );
                    // A notification follows the change that holds its message (the desktop
                    // raises it once its store has the message): a held change goes first.
                    if !self.pending.is_empty() {
                        if let Some(cursor) = self.due.take() {
                            self.said = Some(tokio::time::Instant::now());
                            return Some(Said::Change(cursor));
                        }
                    }
                }
                Ok(HubEvent::AccessChanged) => {
                    if !self.still_allowed().await {
                        return None;
                    }
                }
                // Dropped events: say so, so the client syncs from where it is. Notifications
                // that were dropped are not raised late; badges and tray come right by the sync.
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(employee = %self.me, missed, "a live stream lagged; told to resync");
                    if !self.still_allowed().await {
                        return None;
                    }
                    let cursor = self
                        .hub
                        .read(|c| Ok(store::last_seq(c)?))
                        .await
                        .unwrap_or(0);
                    (self.due, self.said) = (None, Some(tokio::time::Instant::now()));
                    return Some(Said::Resync { cursor, missed });
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Whether the stream's token still names this (active) employee.
    async fn still_allowed(&self) -> bool {
        let token = self.token.clone();
        let me = self.me.clone();
        matches!(
            self.hub.read(move |c| Ok(store::caller_by_token(c, &token)?)).await,
            Ok(Some(Caller::Employee(e))) if e.id == me
        )
    }
}

fn change_event(cursor: i64) -> Event {
    Event::default()
        .event("change")
        .data(serde_json::json!({ "cursor": cursor }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(chat: &str) -> NotifyEvent {
        NotifyEvent {
            chat: chat.into(),
            title: "Ivan".into(),
            text: "hi".into(),
            kind: Default::default(),
            crm: None,
        }
    }

    /// A burst of writes is said as one `change` with the newest cursor, once the pace since
    /// the first (said at once) allows; a notification of the burst's comes after the change
    /// that holds its message, at once; after a quiet spell the next write is said at once.
    /// (Tokio's paused clock: the times are exact, nothing waits for real.)
    #[tokio::test(start_paused = true)]
    async fn a_burst_of_changes_is_said_once_per_pace_and_notifications_after_their_change() {
        use tokio::time::{Duration, Instant};
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        let hub = Hub::new(conn, "secret".into());
        let mut listener = Listener {
            rx: hub.subscribe(),
            me: "vera".into(),
            token: String::new(),
            hub: hub.clone(),
            pending: std::collections::VecDeque::new(),
            said: None,
            due: None,
        };
        let t0 = Instant::now();
        hub.publish(HubEvent::Change(1));
        assert!(matches!(listener.next().await, Some(Said::Change(1))));
        assert_eq!(
            t0.elapsed(),
            Duration::ZERO,
            "the first change is said at once"
        );
        for cursor in 2..=100 {
            hub.publish(HubEvent::Change(cursor));
        }
        assert!(
            matches!(listener.next().await, Some(Said::Change(100))),
            "99 writes are said once, with the newest cursor"
        );
        assert_eq!(
            t0.elapsed(),
            CHANGE_PACE,
            "held back by the pace, no longer"
        );
        // A write that notifies Vera, during the pace: its change first, then at once the
        // notification (Boris's is not hers).
        hub.publish(HubEvent::Change(101));
        hub.notify(vec![
            ("boris".into(), note("b")),
            ("vera".into(), note("v")),
        ]);
        let t1 = Instant::now();
        assert!(matches!(listener.next().await, Some(Said::Change(101))));
        match listener.next().await {
            Some(Said::Notify(n)) => assert_eq!(n.chat, "v", "only her own notification"),
            other => panic!("her notification after its change: {other:?}"),
        }
        assert_eq!(
            t1.elapsed(),
            Duration::ZERO,
            "a notification waits for no pace"
        );
        // Quiet since: the next write is said at once.
        tokio::time::sleep(CHANGE_PACE * 3).await;
        let t2 = Instant::now();
        hub.publish(HubEvent::Change(102));
        assert!(matches!(listener.next().await, Some(Said::Change(102))));
        assert_eq!(t2.elapsed(), Duration::ZERO);
    }
}

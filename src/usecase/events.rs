//! Reading the outbox: the events API, in a stable cursor order (`seq`).

use crate::domain::event::EventType;
use crate::domain::event::RecordedEvent;
use crate::domain::pagination::{Cursor, PageSize};
use crate::store;
use crate::usecase::App;
use crate::usecase::UsecaseError;

/// A page of the event feed. Unlike other lists, its cursor is given whenever the page
/// holds an event, more or not: a consumer keeps it and asks again later for what was
/// written since.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub items: Vec<RecordedEvent>,
    /// After the last event of this page; `None` when the page is empty (ask again with
    /// the same cursor).
    pub next: Option<Cursor>,
    /// Whether more events were already waiting after this page.
    pub has_more: bool,
}

/// One page of events after `cursor`, oldest first, of the comma-separated `types`
/// (all when absent).
pub async fn list(
    app: &App,
    cursor: Option<&str>,
    types: Option<&str>,
    limit: Option<u32>,
) -> Result<FeedPage, UsecaseError> {
    let size = PageSize::new(limit)?;
    let after = Cursor::decode_seq(cursor)?;
    let types = types
        .map(|raw| {
            raw.split(',')
                .map(|name| {
                    EventType::parse(name)
                        .ok_or_else(|| UsecaseError::UnknownEventType(name.to_owned()))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let mut events = store::events::list(&app.db, after, &types, size.get() + 1).await?;
    let has_more = events.len() > size.get() as usize;
    events.truncate(size.get() as usize);
    let next = events
        .last()
        .map(|last| Cursor::after(&last.seq.to_string()));
    Ok(FeedPage {
        items: events,
        next,
        has_more,
    })
}

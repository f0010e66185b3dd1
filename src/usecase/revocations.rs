//! Reads about revocation: what an act would hit, before anyone presses the button.

use crate::domain::revocation::{Preview, Selector};
use crate::store::{self, Reader, Tx};
use crate::usecase::{App, UsecaseError};

/// How many sessions of each kind a preview shows by name.
pub const PREVIEW_SAMPLE: u32 = 20;

/// What revoking `selector` now would hit: the same counts the act would answer, and the
/// oldest [`PREVIEW_SAMPLE`] sessions of each kind. Changes nothing and takes no lock,
/// so an issuance or revocation that commits between a preview and its act makes them
/// differ by exactly that.
pub async fn preview(app: &App, selector: &Selector) -> Result<Preview, UsecaseError> {
    let now = app.clock.now();
    Ok(store::revocations::preview((&app.db).into(), selector, now, PREVIEW_SAMPLE).await?)
}

/// [`preview`], read in an open transaction.
pub(super) async fn preview_in(
    tx: &mut Tx,
    app: &App,
    selector: &Selector,
) -> Result<Preview, UsecaseError> {
    let now = app.clock.now();
    Ok(store::revocations::preview(Reader::Tx(tx), selector, now, PREVIEW_SAMPLE).await?)
}

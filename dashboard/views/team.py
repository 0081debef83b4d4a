"""Team page (team mode only): sign in, edit, add, link, retire, history, review.

Thin: reads widgets and calls :mod:`geodata.db.team` and
:mod:`geodata.db.records`; the database enforces each account's role. The
signed-in account is the only thing kept in the Streamlit session (with
its sign-in and last-use times, for expiry); every action opens its own
connection, so any app server can serve any request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import psycopg
import streamlit as st

from dashboard import cache
from geodata.db import accounts, records, team
from geodata.model import schema
from geodata.render.detail import escape_markdown

ACCOUNT_KEY = "team_account"
FLASH_KEY = "team_flash"
BASE_KEY = "team_base"            # {"id", "version", "doc"}: the record as the user opened it
CONFLICT_KEY = "team_conflict"    # the last refused save, kept until reloaded
RELOAD_KEY = "team_reload"        # the form's record to (re)load on the next run


def _flash(kind: str, text: str) -> None:
    """A message to show after the rerun that follows an action."""
    st.session_state[FLASH_KEY] = (kind, text)


def _show_flash() -> None:
    got = st.session_state.pop(FLASH_KEY, None)
    if got:
        kind, text = got
        getattr(st, kind)(escape_markdown(text))


def _account() -> accounts.Account | None:
    """The signed-in account, or None (never signed in, signed out, or expired)."""
    state = st.session_state.get(ACCOUNT_KEY)
    if not state:
        return None
    now = time.time()
    if team.session_expired(state["signed_in_at"], state["last_seen"], now):
        del st.session_state[ACCOUNT_KEY]
        st.info("Your session expired; sign in again.")
        return None
    state["last_seen"] = now
    return accounts.Account(state["name"], state["role"])


def _run(what: str, action: Callable[[], Any]) -> Any:
    """Run a database action; a refusal becomes a message, never a traceback."""
    try:
        return action()
    except records.ConflictError:
        raise  # the caller shows it with what changed, and keeps the edit
    except (records.EditRejectedError, records.RecordNotFoundError, team.FormError,
            accounts.SignInError, LookupError) as exc:
        st.warning(escape_markdown(f"{what}: {exc}"), icon=":material/block:")
    except psycopg.errors.InsufficientPrivilege:
        st.warning(f"{what}: the database refused it; your role may not do this.",
                   icon=":material/block:")
    except psycopg.Error as exc:
        st.warning(escape_markdown(f"{what}: the team store answered "
                                   f"{' '.join(str(exc).split())[:300]}"),
                   icon=":material/block:")
    return None


def _sign_in_form() -> None:
    st.caption("Sign in with the account an administrator created for you "
               "(`python -m geodata db add-user`). Anyone can read the published atlas "
               "on the other pages without signing in.")
    with st.form("team_sign_in"):
        name = st.text_input("Account name", key="team_name")
        password = st.text_input("Password", type="password", key="team_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        account = _run("Sign-in", lambda: team.sign_in(name, password))
        if account is not None:
            now = time.time()
            st.session_state[ACCOUNT_KEY] = {"name": account.name, "role": account.role,
                                             "signed_in_at": now, "last_seen": now}
            _flash("success", f"Signed in as {account.name} ({account.role}).")
            st.rerun()


def _source_inputs(prefix: str) -> dict[str, str]:
    st.markdown("**Source of this change** (required: publisher and title)")
    c1, c2, c3 = st.columns([1, 2, 2])
    publisher = c1.text_input("Publisher", key=f"{prefix}_src_publisher")
    title = c2.text_input("Title", key=f"{prefix}_src_title")
    url = c3.text_input("URL", key=f"{prefix}_src_url", placeholder="https://…")
    return team.source_from_form(publisher, title, url)


def _load_form(doc: dict[str, Any], version: int, shown: dict[str, Any]) -> None:
    """Open ``doc`` at ``version`` in the edit form, showing ``shown`` (the record, or
    the record with a refused edit reapplied); before the form's widgets are drawn."""
    st.session_state[BASE_KEY] = {"id": doc["id"], "version": version, "doc": doc}
    st.session_state["team_yaml"] = team.record_yaml(shown)
    st.session_state["team_lat"] = shown.get("lat")
    st.session_state["team_lon"] = shown.get("lon")


def _conflict_box() -> None:
    conflict = st.session_state.get(CONFLICT_KEY)
    if not conflict:
        return
    st.warning(escape_markdown(conflict["message"]), icon=":material/sync_problem:")
    st.markdown("**Changed meanwhile**")
    st.dataframe(pd.DataFrame(conflict["rows"]), hide_index=True, use_container_width=True)
    st.caption("Your edit is still in the form below. Load the latest version with your "
               "changes applied on top, check them, and save again.")
    if st.button("Load the latest version and reapply my edit", key="team_reapply"):
        st.session_state[RELOAD_KEY] = {"id": conflict["id"], "attempted": conflict["attempted"]}
        del st.session_state[CONFLICT_KEY]
        st.rerun()


def _edit_tab(account: accounts.Account, choices: list[team.RecordChoice]) -> None:
    if not choices:
        st.info("The store holds no records yet.")
        return
    by_id = {c.id: c for c in choices}
    ids = list(by_id)
    record_id = st.selectbox("Record", ids, key="team_record",
                             format_func=lambda i: by_id[i].label)
    reload = st.session_state.pop(RELOAD_KEY, None)
    base = st.session_state.get(BASE_KEY)
    if reload or not base or base["id"] != record_id:
        with team.session(account) as conn:
            doc, version, _ = records.read_record(conn, record_id)
        shown = team.reapply(doc, (reload or {}).get("attempted") or {})
        _load_form(doc, version, shown)
        if not reload:
            st.session_state.pop(CONFLICT_KEY, None)
        base = st.session_state[BASE_KEY]
    choice = by_id[record_id]
    st.caption(f"Version {base['version']} as opened · now {choice.status}"
               + (" · retired" if choice.retired else ""))
    _conflict_box()

    st.text_area("Fields (YAML: change any value, delete a line to empty a field)",
                 key="team_yaml", height=360)
    st.markdown("**Point** (move the record: type its new latitude and longitude)")
    c1, c2 = st.columns(2)
    lat = c1.number_input("Latitude", key="team_lat", value=None, format="%.4f",
                          min_value=-90.0, max_value=90.0)
    lon = c2.number_input("Longitude", key="team_lon", value=None, format="%.4f",
                          min_value=-180.0, max_value=180.0)
    source = _source_inputs("edit")
    save_col, retire_col = st.columns([1, 1])
    if save_col.button("Save edit (as a draft)", type="primary", key="team_save"):
        _save(account, base, lat, lon, source)
    retire_ok = retire_col.checkbox("I mean to retire this record", key="team_retire_ok")
    if retire_col.button("Retire record", key="team_retire", disabled=not retire_ok):
        version = _run("Retire", lambda: _with(account, lambda c: records.retire_record(
            c, record_id, expected_version=base["version"], source=source,
            who=account.name)))
        if version is not None:
            _flash("success", f"{record_id} retired (draft, version {version}); a reviewer "
                   "approves it before viewers stop seeing it.")
            st.session_state[RELOAD_KEY] = {"id": record_id}
            st.rerun()

    st.divider()
    st.markdown("**Link this record to another**")
    l1, l2 = st.columns([1, 2])
    link_type = l1.selectbox("Link type", list(schema.LINK_TYPES), key="team_link_type",
                             format_func=lambda t: schema.LINK_TYPES[t])
    targets = [i for i in ids if i != record_id and not by_id[i].retired]
    target = l2.selectbox("To record", targets, key="team_link_to",
                          format_func=lambda i: by_id[i].label)
    link_source = _source_inputs("link")
    if st.button("Add link (as a draft)", key="team_link"):
        version = _run("Link", lambda: _with(account, lambda c: records.create_link(
            c, record_id, target, link_type, expected_version=base["version"],
            source=link_source, who=account.name)))
        if version is not None:
            _flash("success", f"Link {record_id} {link_type} {target} saved as a draft "
                   f"(version {version}).")
            st.session_state[RELOAD_KEY] = {"id": record_id}
            st.rerun()


def _with(account: accounts.Account, fn: Callable[[psycopg.Connection], Any]) -> Any:
    with team.session(account) as conn:
        return fn(conn)


def _save(account: accounts.Account, base: dict[str, Any], lat: float | None,
          lon: float | None, source: dict[str, str]) -> None:
    def do() -> int:
        point = None if (lat, lon) == (base["doc"].get("lat"), base["doc"].get("lon")) \
            else (lat, lon)
        changes = team.changes_from_form(base["doc"], st.session_state["team_yaml"], point)
        with team.session(account) as conn:
            return records.save_record(conn, base["id"], changes,
                                       expected_version=base["version"], source=source,
                                       who=account.name)
    try:
        version = _run("Save", do)
    except records.ConflictError as exc:
        st.session_state[CONFLICT_KEY] = {
            "id": base["id"], "message": str(exc), "rows": team.conflict_rows(exc),
            "attempted": exc.attempted}
        st.rerun()  # the conflict box is drawn above the form, which keeps the edit
        return
    if version is None:
        return
    if version == base["version"]:
        st.info("Nothing changed: the form matches the record.")
        return
    st.session_state.pop(CONFLICT_KEY, None)
    _flash("success", f"Saved {base['id']} as a draft (version {version}); a reviewer "
           "approves it before viewers see it.")
    st.session_state[RELOAD_KEY] = {"id": base["id"]}
    st.rerun()


def _add_tab(account: accounts.Account) -> None:
    kind = st.selectbox("Kind", list(schema.KINDS), key="team_new_kind",
                        format_func=lambda k: schema.KINDS[k])
    if st.session_state.get("team_new_for") != kind:
        st.session_state["team_new_yaml"] = team.new_record_template(kind)
        st.session_state["team_new_for"] = kind
    st.text_area("New record (YAML, with its point as lat and lon)", key="team_new_yaml",
                 height=360)
    source = _source_inputs("new")
    if st.button("Add record (as a draft)", type="primary", key="team_add"):
        def do() -> str:
            doc = team.parse_form(st.session_state["team_new_yaml"])
            with team.session(account) as conn:
                records.create_record(conn, doc, source=source, who=account.name)
            return doc["id"]
        new_id = _run("Add", do)
        if new_id:
            _flash("success", f"Added {new_id} as a draft.")
            st.session_state.pop("team_new_for", None)
            st.rerun()


def _history_tab(account: accounts.Account, record_id: str | None) -> None:
    if not record_id:
        return
    with team.session(account) as conn:
        changes = records.history(conn, record_id)
        _, version, _ = records.read_record(conn, record_id)
    st.markdown(f"**History of {escape_markdown(record_id)}** (now version {version})")
    if not changes:
        st.caption("No changes since the record was imported.")
        return
    st.dataframe(pd.DataFrame(team.history_rows(changes)), hide_index=True,
                 use_container_width=True)
    if account.role not in team.REVIEW_ROLES:
        return
    revertible = [c for c in reversed(changes) if c.action in ("edit", "revert")]
    if not revertible:
        return
    labels = {c.id: f"#{c.id} · {c.action} by {c.who} · {', '.join(c.fields)}"
              for c in revertible}
    change_id = st.selectbox("Change to revert", list(labels), key="team_revert_pick",
                             format_func=lambda i: labels[i])
    note = st.text_input("Why (kept in the history)", key="team_revert_note")
    if st.button("Revert this change (as a draft)", key="team_revert"):
        new = _run("Revert", lambda: _with(account, lambda c: records.revert_change(
            c, change_id, expected_version=version, who=account.name, note=note or None)))
        if new is not None:
            _flash("success", f"Change #{change_id} reverted (version {new}).")
            st.session_state[RELOAD_KEY] = {"id": record_id}
            st.rerun()


def _review_tab(account: accounts.Account) -> None:
    with team.session(account) as conn:
        queue = records.review_queue(conn)
    if not queue:
        st.success("No drafts wait for review.")
        return
    st.caption(f"{len(queue)} draft(s), oldest first. Approving one makes it what "
               "viewers see; until then they see the last approved version.")
    for draft in queue:
        what = ("new record" if draft.published_version is None
                else "retirement" if draft.retired else
                f"edit of approved version {draft.published_version}")
        with st.expander(f"{draft.name} ({draft.id}) · {what} · by {draft.updated_by} "
                         f"at {draft.updated_at[:16].replace('T', ' ')}", expanded=True):
            rows = [{"field": f, "approved": team.short_value(old) if old is not None else "",
                     "draft": team.short_value(new) if new is not None else ""}
                    for f, (old, new) in draft.changes.items()]
            st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
            st.caption("Changes and their sources since approval")
            st.dataframe(pd.DataFrame(team.history_rows(draft.entries)), hide_index=True,
                         use_container_width=True)
            approve, send_back = st.columns([1, 3])
            if approve.button("Approve", key=f"team_approve_{draft.id}", type="primary"):
                new = _run("Approve", lambda d=draft: _with(account, lambda c: (
                    records.publish_record(c, d.id, expected_version=d.version,
                                           who=account.name))))
                if new is not None:
                    cache.refresh_team_data()
                    _flash("success", f"Approved {draft.id} (version {new}); viewers see it "
                           "now.")
                    st.rerun()
            if send_back.button("Send back (discard the draft)", key=f"team_discard_{draft.id}",
                                help="Return the record to its approved version; the draft "
                                "stays in the history."):
                new = _run("Send back", lambda d=draft: _with(account, lambda c: (
                    records.discard_draft(c, d.id, expected_version=d.version,
                                          who=account.name))))
                if new is not None:
                    _flash("info", f"Sent {draft.id} back to its approved version (version "
                           f"{new}); the draft is kept in its history.")
                    st.session_state[RELOAD_KEY] = {"id": draft.id}
                    st.rerun()


def main() -> None:
    st.title("Team store")
    _show_flash()
    account = _account()
    if account is None:
        _sign_in_form()
        return
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.caption(f"Signed in as **{escape_markdown(account.name)}** ({account.role}). "
               "Sessions end after 30 minutes without use.")
    if c2.button("Sign out", key="team_sign_out"):
        st.session_state.pop(ACCOUNT_KEY, None)
        _flash("info", "Signed out.")
        st.rerun()
    if account.role not in team.EDIT_ROLES:
        st.info("Viewers read the published atlas on the other pages; editing needs an "
                "editor account.")
        return
    with team.session(account) as conn:
        choices = team.record_choices(conn)
    names = ["Edit a record", "Add a record", "History"]
    if account.role in team.REVIEW_ROLES:
        names.append("Review")
    tabs = st.tabs(names)
    with tabs[0]:
        _edit_tab(account, choices)
    with tabs[1]:
        _add_tab(account)
    with tabs[2]:
        _history_tab(account, st.session_state.get("team_record"))
    if len(tabs) > 3:
        with tabs[3]:
            _review_tab(account)


main()

"""A person's entry in `/usuarios`: their role, units and access, and an admin's buttons to
change the role, add or remove units (each change asked first) and deactivate or reactivate
them. The person is told of every change in their own chat, through the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from handlers.buttons import parse_any
from handlers.command_menus import set_role_commands
from handlers.context import FlowContext, flow
from handlers.i18n import N_, Tr
from handlers.labels import role_label
from handlers.people_buttons import (
    PERSON_BUTTONS,
    AskDeactivate,
    AskRole,
    AskUnit,
    PeoplePage,
    Reactivate,
    RoleMenu,
    SetRole,
    SetUnit,
    ShowPerson,
    UnitChange,
    UnitsMenu,
)
from handlers.replies import ButtonRow, Reply, View, in_rows, stale_button
from handlers.text import shorten
from handlers.views import person_line
from storage.errors import InvalidInput
from storage.models import Person, Role
from storage.people import assignable_units, change_role, change_unit, get_person_by_id

ADMINS = (Role.ADMIN,)
UNITS_PAGE = 12
ROLE_ORDER = (Role.FOCAL, Role.COORDINATOR, Role.SECRETARIAT, Role.ADMIN)
REFUSALS = {
    "last_admin": N_(
        "You are the last active administrator: make someone else an administrator first."
    ),
    "focal_needs_unit": N_("A focal point needs at least one unit: add a unit first."),
    "person_inactive": N_("This person is deactivated: reactivate them first."),
    "person_changed": N_("This person changed meanwhile: here is their entry as it is now."),
    "unit_not_found": N_("That unit no longer exists."),
}


def person_view(tr: Tr, person: Person, me: Person) -> View:
    """The person, and what an admin can change about them."""
    lines = [person_line(tr, person)]
    if person.username:
        lines.append(f"   @{person.username}")
    buttons: list[ButtonRow] = []
    if person.active:
        buttons.append(
            [
                (tr.raw("🎭 Change role"), RoleMenu(person.id)),
                (tr.raw("🏷 Units"), UnitsMenu(person.id)),
            ]
        )
        if person.id != me.id:
            buttons.append([(tr.raw("🚫 Deactivate"), AskDeactivate(person.id))])
    else:
        buttons.append([(tr.raw("↩ Reactivate"), Reactivate(person.id))])
    buttons.append([("‹ " + tr.raw("People"), PeoplePage())])
    return View("\n".join(lines), buttons)


def role_menu(tr: Tr, person: Person) -> View:
    text = tr._(
        "<b>{name}</b> is {role}. Choose their new role:",
        name=person.name,
        role=role_label(tr, person.role),
    )
    current = Role(person.role)
    choices = [
        (role_label(tr, role), AskRole(person.id, current, role))
        for role in ROLE_ORDER
        if role != current
    ]
    return View(text, [*in_rows(choices, 2), [("‹ " + tr.raw("Back"), ShowPerson(person.id))]])


def role_question(tr: Tr, person: Person, button: AskRole) -> View:
    text = tr._(
        "Change the role of <b>{name}</b> from {current} to <b>{role}</b>? They will be told "
        "in their chat.",
        name=person.name,
        current=role_label(tr, button.current),
        role=role_label(tr, button.role),
    )
    answers = [
        (tr.raw("Yes, change it"), SetRole(person.id, button.current, button.role)),
        (tr.raw("No"), ShowPerson(person.id)),
    ]
    return View(text, [answers])


async def units_menu(context: FlowContext, person: Person, page: int) -> View:
    tr = context.tr
    units = await assignable_units(context.session, person)
    pages = max(1, -(-len(units) // UNITS_PAGE))
    page = max(0, min(page, pages - 1))
    shown = units[page * UNITS_PAGE : (page + 1) * UNITS_PAGE]
    mine = ", ".join(unit.name for unit in person.units) or "—"
    text = tr._(
        "Units of <b>{name}</b>: {units}\nPress a unit to add it (☐) or remove it (☑).",
        name=person.name,
        units=mine,
    )
    if not units:
        text += "\n" + tr._("There are no units yet: import a plan first with /plan.")
    choices = [
        (
            ("☑ " if unit in person.units else "☐ ") + shorten(unit.name, 28),
            AskUnit(
                person.id,
                unit.id,
                UnitChange.REMOVE if unit in person.units else UnitChange.ADD,
            ),
        )
        for unit in shown
    ]
    rows = in_rows(choices, 2)
    nav: ButtonRow = []
    if page > 0:
        nav.append(("‹ " + tr.raw("Previous"), UnitsMenu(person.id, page - 1)))
    if page + 1 < pages:
        nav.append((tr.raw("Next") + " ›", UnitsMenu(person.id, page + 1)))
    if nav:
        rows.append(nav)
    rows.append([("‹ " + tr.raw("Back"), ShowPerson(person.id))])
    return View(text, rows)


async def unit_question(context: FlowContext, person: Person, button: AskUnit) -> View:
    tr = context.tr
    unit = next(
        (u for u in await assignable_units(context.session, person) if u.id == button.unit_id),
        None,
    )
    if unit is None:
        raise InvalidInput("unit_not_found")
    if (unit in person.units) != (button.change is UnitChange.REMOVE):
        raise InvalidInput("person_changed")
    if button.change is UnitChange.ADD:
        text = tr._(
            "Add <b>{unit}</b> to the units of <b>{name}</b>?", unit=unit.name, name=person.name
        )
    else:
        text = tr._(
            "Remove <b>{unit}</b> from the units of <b>{name}</b>?",
            unit=unit.name,
            name=person.name,
        )
    answers = [
        (tr.raw("Yes"), SetUnit(person.id, unit.id, button.change)),
        (tr.raw("No"), UnitsMenu(person.id)),
    ]
    return View(text, [answers])


@flow(roles=ADMINS)
async def person_pressed(update: Update, context: FlowContext) -> Reply:
    """A button of a person's entry: show it, the role or units menus, a question, a change."""
    tr = context.tr
    button = parse_any(update, *PERSON_BUTTONS)
    if button is None:
        return stale_button(tr)
    person_id: int = getattr(button, "person_id")  # noqa: B009 (every person button has it)
    try:
        return await _person_step(
            context, button, await get_person_by_id(context.session, person_id)
        )
    except InvalidInput as error:
        if error.code not in REFUSALS:
            raise
        notice = tr.raw(REFUSALS[error.code])
        if error.code == "person_changed":
            person = await get_person_by_id(context.session, person_id)
            return Reply([person_view(tr, person, context.person)], notice=notice, alert=True)
        return Reply(notice=notice, alert=True)


async def _person_step(context: FlowContext, button: object, person: Person) -> Reply:
    tr, session, admin = context.tr, context.session, context.person
    if isinstance(button, ShowPerson):
        return Reply([person_view(tr, person, admin)])
    if not person.active:
        raise InvalidInput("person_inactive")
    if isinstance(button, RoleMenu):
        return Reply([role_menu(tr, person)])
    if isinstance(button, AskRole):
        if person.role != button.current or button.role == button.current:
            raise InvalidInput("person_changed")
        return Reply([role_question(tr, person, button)])
    if isinstance(button, SetRole):
        person = await change_role(
            session,
            admin,
            person.id,
            expected=button.current,
            role=button.role,
            now=context.deps.now(),
        )
        done = tr.raw(
            "{name} is now {role}; they were told.",
            name=person.name,
            role=role_label(tr, person.role),
        )
        return Reply(
            [person_view(tr, person, admin)], notice=done, after=menu_setter(context, person)
        )
    if isinstance(button, UnitsMenu):
        return Reply([await units_menu(context, person, button.page)])
    if isinstance(button, AskUnit):
        return Reply([await unit_question(context, person, button)])
    if isinstance(button, SetUnit):
        add = button.change is UnitChange.ADD
        person, unit = await change_unit(
            session, admin, person.id, button.unit_id, add=add, now=context.deps.now()
        )
        done = (
            tr.raw("{unit} added to {name}; they were told.", unit=unit.name, name=person.name)
            if add
            else tr.raw(
                "{unit} removed from {name}; they were told.", unit=unit.name, name=person.name
            )
        )
        return Reply([await units_menu(context, person, 0)], notice=done)
    return stale_button(tr)


def menu_setter(context: FlowContext, person: Person) -> Callable[[], Awaitable[None]] | None:
    """After a change of role (or a reactivation): the person's command menu, for their role
    and in their language."""
    chat_id, bot = person.telegram_id, context.bot
    if chat_id is None:
        return None
    role, tr = person.role, context.deps.tr(person.language)
    return lambda: set_role_commands(bot, chat_id, role, tr)

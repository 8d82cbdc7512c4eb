"""Names vulture cannot see used: read by a library, or by name."""

import asyncio

import uvicorn
from docx.table import Table
from docx.text.run import Run
from openpyxl.cell.cell import Cell
from selenium.webdriver import ChromeOptions

import storage.plan_files
from bench.measure import Stats
from bot.update_order import OrderedUpdates
from storage.models import Invitation, ReportingRound, RoundAnswer, RoundPerson, UTCDateTime
from storage.sqlite_driver import LoopCursor
from storage.summary import GroupProgress
from tests.offline import OfflineRequest

_used = (
    storage.plan_files.__getattr__,  # Python's lazy module attributes (PEP 562)
    Stats.p99_ms,  # the benchmark's results, written as JSON through dataclasses.asdict
    Stats.mean_ms,
    Stats.per_second,
    Stats.ratio_to_baseline,
    OfflineRequest.read_timeout,  # PTB's BaseRequest interface, and do_request's arguments
    OfflineRequest.write_timeout,
    OfflineRequest.connect_timeout,
    OfflineRequest.pool_timeout,
    UTCDateTime.impl,  # SQLAlchemy's TypeDecorator
    Invitation.created_by_id,  # columns written through the ORM, kept for the record
    Invitation.used_by_id,
    ReportingRound.opened_by_id,  # who opened and closed a round, and when people were asked
    ReportingRound.closed_by_id,
    RoundPerson.asked_at,
    RoundAnswer.answered_at,
    GroupProgress.in_progress,  # read by name in GroupProgress.count
    GroupProgress.not_started,
    Cell.font,  # cell styles, read by openpyxl when it saves
    Cell.fill,
    Cell.number_format,
    LoopCursor.fetchone,  # the DB-API cursor interface SQLAlchemy's adapter calls
    LoopCursor.fetchmany,
    OrderedUpdates.do_process_update,  # PTB's BaseUpdateProcessor interface
    uvicorn.Server.should_exit,  # read by uvicorn's main loop: stops the dashboard's server
    ChromeOptions.binary_location,  # read by selenium: Debian's chromium
    Run.bold,  # Word styles, written into the document by python-docx
    Table.style,
    asyncio.AbstractEventLoop.slow_callback_duration,  # read by asyncio's debug mode (bench)
)

"""the journal without its secondary indexes

The journal holds at most JOURNAL_MAX_ENTRIES rows (10,000 by default), read newest first by id with filters a
scan answers in milliseconds; its five secondary indexes (at, dialect, path, status, client_id) were written and
trimmed with every entry, a third of what journaling a request costs.

Revision ID: f1a2b3c4d5e6
Revises: e5b6c7d8f901
Create Date: 2026-12-01 11:35:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e5b6c7d8f901'
branch_labels = None
depends_on = None

INDEXED = ('at', 'client_id', 'dialect', 'path', 'status')


def upgrade():
    with op.batch_alter_table('sandbox_journal', schema=None) as batch_op:
        for column in INDEXED:
            batch_op.drop_index(batch_op.f(f'ix_sandbox_journal_{column}'))


def downgrade():
    with op.batch_alter_table('sandbox_journal', schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f'ix_sandbox_journal_{column}'), [column], unique=False)

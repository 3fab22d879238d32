"""users.claims, clients.claims: extra claims for the tokens of a user and of a client

An object of JSON values per user and per client (the fixtures' and the admin API's "claims"); existing rows get
an empty object.

Revision ID: d3a4e5f60718
Revises: c67089121995
Create Date: 2026-12-01 11:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a4e5f60718'
down_revision = 'c67089121995'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('users', 'clients'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claims', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    for table in ('clients', 'users'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claims')

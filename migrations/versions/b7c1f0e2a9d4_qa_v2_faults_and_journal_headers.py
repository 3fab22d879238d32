"""QA controls v2: faults that stall or drop the connection; the journal's request and response headers

Revision ID: b7c1f0e2a9d4
Revises: 4dbecd8982bd
Create Date: 2026-12-01 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c1f0e2a9d4'
down_revision = '4dbecd8982bd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sandbox_faults', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stall_ms', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('drop', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('sandbox_journal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_headers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('response_headers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('sandbox_journal', schema=None) as batch_op:
        batch_op.drop_column('response_headers')
        batch_op.drop_column('request_headers')
    with op.batch_alter_table('sandbox_faults', schema=None) as batch_op:
        batch_op.drop_column('drop')
        batch_op.drop_column('stall_ms')

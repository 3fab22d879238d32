"""next_token_claims: one-off claims for a client's next N tokens

A batch of claims (`POST /_sandbox/clients/<client_id>/next-token-claims`) and how many tokens still take it; a
token takes one with an atomic decrement (claims.py). Deleted with its client.

Revision ID: e5b6c7d8f901
Revises: d3a4e5f60718
Create Date: 2026-12-01 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b6c7d8f901'
down_revision = 'd3a4e5f60718'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'next_token_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('claims', sa.JSON(), nullable=False),
        sa.Column('remaining', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('next_token_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_next_token_claims_client_id'), ['client_id'], unique=False)


def downgrade():
    with op.batch_alter_table('next_token_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_next_token_claims_client_id'))
    op.drop_table('next_token_claims')

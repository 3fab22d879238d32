"""tokens.parent_id: the token whose refresh token a token was issued for

A rotated refresh token presented again revokes what was issued from it (mokapen, RFC 9700 §4.14.2): this link is
how the successors are found. Nullable (tokens from a code, a login or client credentials have no parent); a parent
purged later leaves NULL behind.

Revision ID: c67089121995
Revises: b7c1f0e2a9d4
Create Date: 2026-12-01 09:08:50.130807

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c67089121995'
down_revision = 'b7c1f0e2a9d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tokens_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key('fk_tokens_parent_id_tokens', 'tokens', ['parent_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tokens_parent_id_tokens', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tokens_parent_id'))
        batch_op.drop_column('parent_id')

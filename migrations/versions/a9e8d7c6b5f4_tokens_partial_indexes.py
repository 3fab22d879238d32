"""tokens: the links a token may lack indexed only where it has them

The indexes of tokens.client_id, user_id, authorization_code_id, organization_id and parent_id become partial
(`WHERE … IS NOT NULL`): a token's INSERT writes no entry into the index of a column it leaves NULL (a
client-credentials token has no code and no parent, only mokapen's an organization, v1's no client), and each index
written is one more page in its commit. Lookups by a value, the ON DELETE actions' among them, use them as before.

Revision ID: a9e8d7c6b5f4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-01 20:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9e8d7c6b5f4'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None

COLUMNS = ('client_id', 'user_id', 'authorization_code_id', 'organization_id', 'parent_id')


def upgrade():
    for column in COLUMNS:
        where = sa.text(f'{column} IS NOT NULL')
        op.drop_index(f'ix_tokens_{column}', table_name='tokens')
        op.create_index(f'ix_tokens_{column}', 'tokens', [column], unique=False, sqlite_where=where,
                        postgresql_where=where)


def downgrade():
    for column in COLUMNS:
        op.drop_index(f'ix_tokens_{column}', table_name='tokens')
        op.create_index(f'ix_tokens_{column}', 'tokens', [column], unique=False)

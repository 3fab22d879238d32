"""tokens: a token's INSERT writes no index it does not need

The refresh token's hash stays unique, but only where a token has one (a partial unique index
`ux_tokens_refresh_token_hash … WHERE refresh_token_hash IS NOT NULL` instead of the column's UNIQUE constraint,
whose index held an entry for every NULL too), and organization_id loses its index: only deleting an organization
looks tokens up by it. A client-credentials token now writes two B-trees fewer in its commit (the table, its
access-token hash and its client's and user's indexes remain).

Revision ID: 5b2d8c1e7f30
Revises: 3e8f1a2b4c6d
Create Date: 2026-12-03 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2d8c1e7f30'
down_revision = '3e8f1a2b4c6d'
branch_labels = None
depends_on = None

# SQLite's UNIQUE constraint from the initial schema has no name; batch mode names it by this convention so that it
# can be dropped (PostgreSQL named it tokens_refresh_token_hash_key).
SQLITE_NAMES = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}
WHERE = sa.text('refresh_token_hash IS NOT NULL')


def unique_constraint_name():
    return 'uq_tokens_refresh_token_hash' if op.get_bind().dialect.name == 'sqlite' else 'tokens_refresh_token_hash_key'


def parent_links():
    """Which token each refreshed token was issued for, where SQLite's rebuild of the table would lose it: batch mode
    copies the rows, then drops the old table, and with foreign keys on that DROP first deletes every row, which sets
    each copy's parent_id NULL through the self-reference's ON DELETE SET NULL (and with it a replayed refresh
    token's revocation of its successors). Written back by restore_parent_links."""
    if op.get_bind().dialect.name != 'sqlite':
        return []
    return op.get_bind().execute(sa.text('SELECT id, parent_id FROM tokens WHERE parent_id IS NOT NULL')).all()


def restore_parent_links(links):
    if links:
        op.get_bind().execute(sa.text('UPDATE tokens SET parent_id = :parent WHERE id = :id'),
                              [{'id': token_id, 'parent': parent_id} for token_id, parent_id in links])


def upgrade():
    links = parent_links()
    with op.batch_alter_table('tokens', naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint(unique_constraint_name(), type_='unique')
        batch_op.drop_index('ix_tokens_organization_id')
    restore_parent_links(links)
    op.create_index('ux_tokens_refresh_token_hash', 'tokens', ['refresh_token_hash'], unique=True,
                    sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade():
    op.drop_index('ux_tokens_refresh_token_hash', table_name='tokens')
    where = sa.text('organization_id IS NOT NULL')
    op.create_index('ix_tokens_organization_id', 'tokens', ['organization_id'], unique=False, sqlite_where=where,
                    postgresql_where=where)
    links = parent_links()
    with op.batch_alter_table('tokens', naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.create_unique_constraint(unique_constraint_name(), ['refresh_token_hash'])
    restore_parent_links(links)

"""the catalog versioned: every change to a table the catalog reads gives the shared settings a new version

Triggers on the tables `reads.CatalogRead`s read: whatever writes to one of them, the statement also stores a new
`version` in sandbox_settings, so that every worker's next request drops the catalog answers it kept
(`settings.create_version_triggers`, which `db.create_all` runs too).

Revision ID: 0c4a7e9b1d2f
Revises: a9e8d7c6b5f4
Create Date: 2026-12-02 01:50:00

"""
from alembic import op

from oauth_sandbox.settings import create_version_triggers, drop_version_triggers


# revision identifiers, used by Alembic.
revision = '0c4a7e9b1d2f'
down_revision = 'a9e8d7c6b5f4'
branch_labels = None
depends_on = None

# The tables the catalog reads read at this revision (reads.CATALOG_TABLES).
TABLES = ('clients', 'consumer_roles', 'consumer_user_roles', 'mokapen_applications', 'mokapen_memberships',
          'mokapen_organizations', 'next_token_claims', 'users')


def upgrade():
    create_version_triggers(op.get_bind(), TABLES)


def downgrade():
    drop_version_triggers(op.get_bind(), TABLES)

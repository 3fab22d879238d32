"""the catalog versioned: Fusio's operations too

Fusio's operations are read as the catalog now (`reads.CatalogRead`): each worker keeps them for the shared
settings' version, so every change to `consumer_operations` must move that version, as 0c4a7e9b1d2f made every
change to the other catalog tables do (`settings.create_version_triggers`, which `db.create_all` runs too).

Revision ID: 3e8f1a2b4c6d
Revises: 0c4a7e9b1d2f
Create Date: 2026-12-02 05:45:00

"""
from alembic import op

from oauth_sandbox.settings import create_version_triggers, drop_version_triggers


# revision identifiers, used by Alembic.
revision = '3e8f1a2b4c6d'
down_revision = '0c4a7e9b1d2f'
branch_labels = None
depends_on = None

# The table the catalog reads read at this revision that 0c4a7e9b1d2f did not version.
TABLES = ('consumer_operations',)


def upgrade():
    create_version_triggers(op.get_bind(), TABLES)


def downgrade():
    drop_version_triggers(op.get_bind(), TABLES)

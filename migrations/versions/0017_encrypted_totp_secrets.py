"""two-factor keys encrypted at rest

users.totp_secret (the key in the clear) becomes users.totp_key, a Fernet token under
CHANNELS_ENCRYPTION_KEY as for live channels. Keys stored before are encrypted on the way
when CHANNELS_ENCRYPTION_KEY is set while upgrading (`make run` sets it); without it they
cannot be kept: two-factor is turned off for those users (their recovery codes go too), and
they turn it on again. A new column rather than a changed one: changing a column's type on
SQLite rebuilds users, which every table refers to.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:20:00.000000

"""
import os

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

recovery_codes = sa.table('recovery_codes', sa.column('user_id', sa.Integer))


def _users(column):
    return sa.table('users', sa.column('id', sa.Integer), sa.column(column, sa.Text),
                    sa.column('totp_enabled_at', sa.DateTime),
                    sa.column('totp_last_step', sa.Integer))


def _fernet():
    keys = [k.strip() for k in os.environ.get('CHANNELS_ENCRYPTION_KEY', '').split(',')
            if k.strip()]
    if not keys:
        return None
    from cryptography.fernet import Fernet, MultiFernet
    return MultiFernet([Fernet(k) for k in keys])


def _move(source, target, convert):
    """Copy each user's key from column `source` to `target` through `convert`; without the
    encryption key, turn two-factor off for those users instead."""
    bind = op.get_bind()
    users = _users(source)
    target_users = _users(target)
    rows = bind.execute(sa.select(users.c.id, users.c[source])
                        .where(users.c[source].isnot(None))).all()
    if not rows:
        return
    fernet = _fernet()
    if fernet is None:
        ids = [row.id for row in rows]
        bind.execute(target_users.update().where(target_users.c.id.in_(ids))
                     .values(totp_enabled_at=None, totp_last_step=None))
        bind.execute(recovery_codes.delete().where(recovery_codes.c.user_id.in_(ids)))
        print(f'CHANNELS_ENCRYPTION_KEY is not set: two-factor turned off for {len(ids)} '
              'user(s); they must turn it on again.')
        return
    for row in rows:
        bind.execute(target_users.update().where(target_users.c.id == row.id)
                     .values({target: convert(fernet, row[1])}))


def upgrade():
    op.add_column('users', sa.Column('totp_key', sa.Text(), nullable=True))
    _move('totp_secret', 'totp_key',
          lambda fernet, value: fernet.encrypt(value.encode()).decode())
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as in 0011's downgrade.
    op.drop_column('users', 'totp_secret')


def downgrade():
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    _move('totp_key', 'totp_secret',
          lambda fernet, value: fernet.decrypt(value.encode()).decode())
    op.drop_column('users', 'totp_key')

"""privacy: erasures, the suppression list of erased people's keyed hashes, and when a
contact or a conversation was erased

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'erasures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('erased_at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('removed', sa.JSON(), nullable=False),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_erasures_at', 'erasures', ['erased_at'])
    op.create_index('ix_erasures_contact', 'erasures', ['contact_id'])
    op.create_table(
        'suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('erasure_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['erasure_id'], ['erasures.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('digest'),
    )
    op.create_index('ix_suppressions_erasure', 'suppressions', ['erasure_id'])
    # Plain ADD COLUMNs (no batch copy): both tables keep their triggers.
    op.add_column('contacts', sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.add_column('conversations', sa.Column('erased_at', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('conversations', 'erased_at')
    op.drop_column('contacts', 'erased_at')
    op.drop_index('ix_suppressions_erasure', table_name='suppressions')
    op.drop_table('suppressions')
    op.drop_index('ix_erasures_contact', table_name='erasures')
    op.drop_index('ix_erasures_at', table_name='erasures')
    op.drop_table('erasures')

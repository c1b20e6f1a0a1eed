"""The seeded case types moved from Python constants to chalicelib/seed/case_types/<ID>.json without changing."""
from __future__ import annotations

from chalicelib.domain.case_types import CaseTypeCreate, seed_case_types

# `[t.model_dump() for t in DEFAULT_CASE_TYPES]` as the Python constants gave it (str enums compare equal to
# their values), taken before the move.
BEFORE_THE_MOVE = (
    [{'id': 'GENERAL',
      'name': 'General enquiry',
      'team': None,
      'sla_hours': {'LOW': 240, 'MEDIUM': 120, 'HIGH': 48, 'CRITICAL': 8},
      'required_documents': [],
      'approval_required': False,
      'currencies': {'EUR': {'cap': None, 'second_level_above': '1000.00'},
                     'USD': {'cap': None, 'second_level_above': '1100.00'},
                     'GBP': {'cap': None, 'second_level_above': '850.00'}},
      'approval_policy': {'second_level_priorities': []},
      'tasks': [{'type': 'ANSWER', 'title': 'Answer the enquiry', 'required': True, 'sla_hours': None}],
      'assignment': [{'policy': 'ROUND_ROBIN', 'team': None, 'required_skills': [], 'priorities': []}]},
     {'id': 'CLAIM',
      'name': 'Insurance claim',
      'team': 'claims',
      'sla_hours': {'LOW': 336, 'MEDIUM': 168, 'HIGH': 72, 'CRITICAL': 24},
      'required_documents': ['claim-form', 'proof-of-loss'],
      'approval_required': True,
      'currencies': {'EUR': {'cap': '50000.00', 'second_level_above': '1000.00'},
                     'USD': {'cap': '55000.00', 'second_level_above': '1100.00'},
                     'GBP': {'cap': '43000.00', 'second_level_above': '850.00'}},
      'approval_policy': {'second_level_priorities': ['CRITICAL']},
      'tasks': [{'type': 'VERIFY_DOCUMENTS',
                 'title': 'Check the claim documents',
                 'required': True,
                 'sla_hours': None},
                {'type': 'ASSESS_CLAIM', 'title': 'Assess the claim', 'required': True, 'sla_hours': None}],
      'assignment': [{'policy': 'LEAST_LOADED',
                      'team': None,
                      'required_skills': ['claims'],
                      'priorities': ['HIGH', 'CRITICAL']},
                     {'policy': 'LEAST_LOADED', 'team': None, 'required_skills': [], 'priorities': []}]},
     {'id': 'COMPLAINT',
      'name': 'Customer complaint',
      'team': 'complaints',
      'sla_hours': {'LOW': 240, 'MEDIUM': 120, 'HIGH': 48, 'CRITICAL': 8},
      'required_documents': [],
      'approval_required': False,
      'currencies': {'EUR': {'cap': '5000.00', 'second_level_above': '2500.00'},
                     'USD': {'cap': '5500.00', 'second_level_above': '2750.00'},
                     'GBP': {'cap': '4300.00', 'second_level_above': '2150.00'}},
      'approval_policy': {'second_level_priorities': ['CRITICAL']},
      'tasks': [{'type': 'INVESTIGATE', 'title': 'Investigate the complaint', 'required': True, 'sla_hours': None},
                {'type': 'RESPOND', 'title': 'Respond to the customer', 'required': True, 'sla_hours': None}],
      'assignment': [{'policy': 'SKILLS_MATCH', 'team': None, 'required_skills': ['complaints'], 'priorities': []}]}]
)


def test_the_seed_files_equal_the_former_constants():
    former = {t["id"]: t for t in BEFORE_THE_MOVE}
    seeded = {t.id: t.model_dump(exclude={"fields", "calendar"}) for t in seed_case_types()}
    assert seeded == former
    assert all(isinstance(t, CaseTypeCreate) for t in seed_case_types())

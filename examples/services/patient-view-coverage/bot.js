// patient-view demo: reads Coverage through prefetch (Bundle or single resource) and says what it found.
function resources(value) {
  if (!value) return [];
  if (value.resourceType === 'Bundle') return (value.entry || []).map((e) => e.resource).filter(Boolean);
  return [value];
}

function describe(coverage) {
  const group = (coverage.class || []).find((c) => ((c.type && c.type.coding) || []).some((k) => k.code === 'group'));
  const parts = [];
  if (group && group.value) parts.push('group ' + group.value);
  if (coverage.subscriberId) parts.push('member ' + coverage.subscriberId);
  if (coverage.period && coverage.period.end) parts.push('until ' + coverage.period.end);
  return parts.length ? parts.join(', ') : 'Coverage/' + coverage.id;
}

exports.handler = async (medplum, event) => {
  const prefetch = event.input.prefetch || {};
  const coverages = resources(prefetch.coverage).filter((r) => r.resourceType === 'Coverage');
  const active = coverages.filter((c) => c.status === 'active');
  const source = { label: 'Hookbot demo payer' };
  if (active.length === 0) {
    return {
      cards: [
        {
          summary: coverages.length
            ? 'No active coverage on file (' + coverages.length + ' inactive)'
            : 'No coverage on file for this patient',
          detail: "Check the patient's insurance card before ordering services that may need prior authorization.",
          indicator: 'warning',
          source,
        },
      ],
    };
  }
  const summary = 'Active coverage: ' + active.map(describe).join('; ');
  return {
    cards: [
      {
        summary: summary.length < 140 ? summary : summary.slice(0, 136) + '...',
        indicator: 'info',
        source,
      },
    ],
  };
};

// CRD prior-auth demo (order-sign). For every draft ServiceRequest billed under CPT 93456 while the patient's
// active Coverage is in group GRP2245: a Coverage Information systemAction (prior auth needed) and a card saying
// what to send. Other orders get "covered, no prior auth" coverage information and no card.
const CPT = 'http://www.ama-assn.org/go/cpt';
const CRD_TEMP = 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp';
const COVERAGE_INFO = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
const PA_CODES = ['93456'];
const PA_GROUPS = ['GRP2245'];

function resources(value) {
  if (!value) return [];
  if (value.resourceType === 'Bundle') return (value.entry || []).map((e) => e.resource).filter(Boolean);
  return [value];
}

function groupOf(coverage) {
  const cls = (coverage.class || []).find((c) => ((c.type && c.type.coding) || []).some((k) => k.code === 'group'));
  return cls ? cls.value : undefined;
}

function assertionId(order) {
  return 'crd-' + order.id + '-' + Date.now().toString(36);
}

exports.handler = async (medplum, event) => {
  const input = event.input;
  const coverages = resources(input.prefetch && input.prefetch.coverage).filter((c) => c.resourceType === 'Coverage');
  const coverage = coverages.find((c) => c.status === 'active') || coverages[0];
  const orders = resources(input.context.draftOrders).filter((r) => r.resourceType === 'ServiceRequest');
  const today = new Date().toISOString().slice(0, 10);
  const cards = [];
  const systemActions = [];
  if (!coverage) {
    return { cards: [] };
  }
  for (const order of orders) {
    const codes = ((order.code && order.code.coding) || []).filter((c) => c.system === CPT).map((c) => c.code);
    const needsPa = codes.some((c) => PA_CODES.includes(c)) && PA_GROUPS.includes(groupOf(coverage));
    const parts = [
      { url: 'coverage', valueReference: { reference: 'Coverage/' + coverage.id } },
      { url: 'covered', valueCode: 'covered' },
      { url: 'pa-needed', valueCode: needsPa ? 'auth-needed' : 'no-auth' },
    ];
    if (needsPa) parts.push({ url: 'doc-needed', valueCode: 'clinical' });
    parts.push({ url: 'date', valueDate: today }, { url: 'coverage-assertion-id', valueString: assertionId(order) });
    const updated = Object.assign({}, order, {
      extension: (order.extension || [])
        .filter((e) => e.url !== COVERAGE_INFO)
        .concat([{ url: COVERAGE_INFO, extension: parts }]),
    });
    systemActions.push({
      type: 'update',
      description: 'Coverage information for ' + (codes[0] || 'the order'),
      resource: updated,
    });
    if (needsPa) {
      cards.push({
        summary: 'Prior authorization required for CPT ' + codes.join(', ') + ' (group ' + groupOf(coverage) + ')',
        detail:
          'This plan requires prior authorization for coronary angiography with right heart catheterization. ' +
          'Submit the request with the cardiology consult note, the most recent echocardiogram and the stress test result. ' +
          'Urgent requests are decided within 72 hours.',
        indicator: 'warning',
        source: {
          label: 'Hookbot demo payer',
          topic: { system: CRD_TEMP, code: 'coverage', display: 'Coverage Information' },
        },
      });
    }
  }
  return systemActions.length ? { cards, systemActions } : { cards };
};

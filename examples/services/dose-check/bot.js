// order-sign dose check: a draft MedicationRequest above the limit for its RxNorm code gets a warning card with
// one suggestion (selectionBehavior any, one update action: Epic renders only that shape).
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
// RxNorm code → highest single dose in mg the demo plan covers.
const LIMITS = {
  197361: { name: 'amlodipine 5 mg tablet', maxMg: 10 },
  310965: { name: 'ibuprofen 200 mg tablet', maxMg: 800 },
};

function resources(value) {
  if (!value) return [];
  if (value.resourceType === 'Bundle') return (value.entry || []).map((e) => e.resource).filter(Boolean);
  return Array.isArray(value) ? value : [value];
}

function doseMg(request) {
  const dose = request.dosageInstruction && request.dosageInstruction[0];
  const rate = dose && dose.doseAndRate && dose.doseAndRate[0];
  const quantity = rate && rate.doseQuantity;
  return quantity && quantity.unit === 'mg' && typeof quantity.value === 'number' ? quantity.value : undefined;
}

exports.handler = async (medplum, event) => {
  const cards = [];
  for (const request of resources(event.input.context.draftOrders)) {
    if (request.resourceType !== 'MedicationRequest') continue;
    const codes = ((request.medicationCodeableConcept && request.medicationCodeableConcept.coding) || []).filter(
      (c) => c.system === RXNORM,
    );
    const limit = codes.map((c) => LIMITS[c.code]).find(Boolean);
    const mg = doseMg(request);
    if (!limit || mg === undefined || mg <= limit.maxMg) continue;
    const fixed = JSON.parse(JSON.stringify(request));
    fixed.dosageInstruction[0].doseAndRate[0].doseQuantity.value = limit.maxMg;
    cards.push({
      summary: 'Dose above plan limit: ' + mg + ' mg of ' + limit.name + ' (max ' + limit.maxMg + ' mg)',
      detail: 'The plan covers up to ' + limit.maxMg + ' mg per dose. Higher doses need a medical-necessity review.',
      indicator: 'warning',
      source: { label: 'Hookbot demo payer' },
      selectionBehavior: 'any',
      suggestions: [
        {
          label: 'Change the dose to ' + limit.maxMg + ' mg',
          isRecommended: true,
          actions: [{ type: 'update', description: 'Set the dose to ' + limit.maxMg + ' mg', resource: fixed }],
        },
      ],
      overrideReasons: [
        {
          system: 'https://hookbot.dev/fhir/CodeSystem/override-reason',
          code: 'clinical-need',
          display: 'Clinically required dose',
        },
        {
          system: 'https://hookbot.dev/fhir/CodeSystem/override-reason',
          code: 'specialist',
          display: 'Ordered on specialist advice',
        },
      ],
    });
  }
  return { cards };
};

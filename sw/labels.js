// Words shared by the offline pages.
export function beneficiaryName(order) {
  if (!order) return "Commande inconnue";
  const b = order.beneficiary || {};
  return [b.firstName, b.lastName].filter(Boolean).join(" ") || `Commande ${order.reference || order.id}`;
}

/** « 0 évaluation », « 1 évaluation », « 2 évaluations » (French: singular below 2). */
export function countOf(n, singular, plural) {
  return `${n} ${n < 2 ? singular : plural}`;
}
